// Keeps a headless Chromium page offline: every request that leaves 127.0.0.1 is blocked and
// recorded in result.externalRequests, and every uncaught page error in result.pageErrors.
export async function keepOffline(page, result) {
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname !== "127.0.0.1") {
      result.externalRequests.push(url.href);
      return route.abort();
    }
    return route.continue();
  });
  page.on("pageerror", (error) => result.pageErrors.push(String(error)));
}
