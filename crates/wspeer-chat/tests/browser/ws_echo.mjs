// A browser page's WebSocket against an echo route, for
// examples/tests/it/axum_echo.rs. Usage: node ws_echo.mjs PAGE_URL WS_URL
// Opens PAGE_URL in headless Chromium (Debian's, $CHROMIUM or /usr/bin/chromium),
// opens a WebSocket to WS_URL from the page, sends a text and a binary message,
// and prints each echo and the close code.
import { launchChromium } from "./launch.mjs";

const [pageUrl, wsUrl] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(pageUrl);
  const seen = await page.evaluate((url) => new Promise((resolve, reject) => {
    const lines = [];
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      ws.send("hello from chromium");
      ws.send(new Uint8Array([1, 2, 3, 250]));
    };
    ws.onmessage = (event) => {
      lines.push(typeof event.data === "string"
        ? "text " + event.data
        : "binary " + [...new Uint8Array(event.data)].join(","));
      if (lines.length === 2) ws.close(1000, "done");
    };
    ws.onclose = (event) => resolve([...lines, "closed " + event.code]);
    ws.onerror = () => reject(new Error("WebSocket error"));
    setTimeout(() => reject(new Error("timed out: " + lines.join(" | "))), 15000);
  }), wsUrl);
  for (const line of seen) console.log(line);
} finally {
  await browser.close();
}
