// Drives a real browser through the chat server's web page, for
// crates/wspeer-chat/tests/it/browser.rs. Usage: node chat.mjs URL [SCREENSHOT]
// Opens the page in headless Chromium (Debian's, $CHROMIUM or /usr/bin/chromium),
// waits until it has joined, sends "hello from chromium" by typing and clicking
// Send, waits for a Rust client's line ending in "hello from rust", and prints
// what it saw, then the Sec-WebSocket-Extensions the server answered (through
// the DevTools protocol, as the browser received it).
import { launchChromium } from "./launch.mjs";

const [url, screenshot] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const devtools = await page.context().newCDPSession(page);
  await devtools.send("Network.enable");
  let extensions = "(no handshake seen)";
  devtools.on("Network.webSocketHandshakeResponseReceived", (event) => {
    const headers = event.response.headers;
    const name = Object.keys(headers).find((h) => h.toLowerCase() === "sec-websocket-extensions");
    extensions = name ? headers[name] : "(none)";
  });
  await page.goto(url);
  await page.waitForSelector("#status.open", { timeout: 15000 });
  console.log("joined");
  await page.fill("#input", "hello from chromium");
  await page.click("#send");
  const line = await page.waitForFunction(() => {
    const lines = [...document.querySelectorAll("#log div")].map((d) => d.textContent);
    return lines.find((l) => l.includes("] Says: ") && l.endsWith("hello from rust"));
  }, null, { timeout: 15000 }).catch(async (error) => {
    const lines = await page.evaluate(() =>
      [...document.querySelectorAll("#log div")].map((d) => d.textContent));
    console.log("the page shows:\n" + lines.join("\n"));
    throw error;
  });
  console.log("received " + (await line.jsonValue()));
  console.log("extensions " + extensions);
  if (screenshot) await page.screenshot({ path: screenshot });
} finally {
  await browser.close();
}
