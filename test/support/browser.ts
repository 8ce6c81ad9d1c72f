/**
 * Headless Chromium for the web UI's browser tests: the distribution's package
 * (/usr/bin/chromium, `.ci/run` installs it on Debian) driven by playwright-core, which
 * downloads nothing. Without the browser the tests skip, except under CI (CI set) or with
 * TRACEFOLD_REQUIRE_BROWSER=1, where a missing browser fails them with the reason.
 */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.TRACEFOLD_CHROMIUM ?? '/usr/bin/chromium';

export const browserRequired = (process.env.CI !== undefined && process.env.CI !== '') || process.env.TRACEFOLD_REQUIRE_BROWSER === '1';

export const browserPresent = fs.existsSync(CHROMIUM_PATH);

/** Skip only where a missing browser is allowed to skip. */
export const skipBrowserTests = !browserPresent && !browserRequired;

export async function launchChromium(): Promise<Browser> {
  if (!browserPresent) {
    // Reached only when the browser is required (otherwise the tests skip).
    throw new Error(`no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set TRACEFOLD_CHROMIUM); required under CI or with TRACEFOLD_REQUIRE_BROWSER=1`);
  }
  // Tests run as root in CI containers, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}
