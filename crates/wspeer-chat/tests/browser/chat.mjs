// Drives a real browser through the chat server's web page, for
// crates/wspeer-chat/tests/browser.rs. Usage: node chat.mjs URL [SCREENSHOT]
// Opens the page in headless Chromium (Debian's, $CHROMIUM or /usr/bin/chromium),
// waits until it has joined, sends "hello from chromium" by typing and clicking
// Send, waits for a Rust client's "hello from rust", and prints what it saw.
import { launchChromium } from "./launch.mjs";

const [url, screenshot] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector("#status.open", { timeout: 15000 });
  console.log("joined");
  await page.fill("#input", "hello from chromium");
  await page.click("#send");
  const line = await page.waitForFunction(() => {
    const lines = [...document.querySelectorAll("#log div")].map((d) => d.textContent);
    return lines.find((l) => l.endsWith("Says: hello from rust"));
  }, null, { timeout: 15000 });
  console.log("received " + (await line.jsonValue()));
  if (screenshot) await page.screenshot({ path: screenshot });
} finally {
  await browser.close();
}
