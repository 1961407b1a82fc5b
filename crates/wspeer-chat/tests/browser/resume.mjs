// Drives the chat page through a restart of its server, for
// crates/wspeer-chat/tests/it/browser.rs. Usage: node resume.mjs URL [SCREENSHOT]
// Prints "joined" once the page is connected, "seen line 2" once it shows
// "line 2", then waits for "end" and prints every room line on screen (those
// with an id) and every gap notice, as JSON, one line.
import { launchChromium } from "./launch.mjs";

const [url, screenshot] = process.argv.slice(2);
const browser = await launchChromium();
const shows = (end) => [...document.querySelectorAll("#log div")].some((d) => d.textContent.endsWith(end));
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector("#status.open", { timeout: 15000 });
  await page.waitForFunction(() => document.getElementById("me").textContent !== "…", null, { timeout: 15000 });
  console.log("joined " + (await page.textContent("#me")));
  await page.waitForFunction(shows, "Says: line 2", { timeout: 20000 });
  console.log("seen line 2");
  await page.waitForFunction(shows, "Says: end", { timeout: 60000 });
  const lines = await page.evaluate(() => ({
    lines: [...document.querySelectorAll("#log div[data-id]")].map((d) => d.textContent),
    gaps: [...document.querySelectorAll("#log div.gap")].map((d) => d.textContent),
    room: document.getElementById("room").textContent,
    members: [...document.querySelectorAll("#members li")].map((d) => d.textContent),
  }));
  console.log(JSON.stringify(lines));
  if (screenshot) await page.screenshot({ path: screenshot });
} finally {
  await browser.close();
}
