"""The browser run's checks of every main page, used by browser.py: each
page is opened at a desktop's size (1280 x 900) and a phone's (390 x 844),
in the light and the dark theme (prefers-color-scheme, emulated over the
DevTools protocol), and for each:

- a screenshot goes to the screenshots directory
  (audit-<who>-<page>-<theme>-<width>.png);
- the document must not be wider than the window
  (documentElement.scrollWidth > innerWidth fails);
- axe-core (scripts/e2e/axe/package.json, pinned; installed by
  e2e-browser.sh with `npm ci`) is injected and run with the WCAG 2.0,
  2.1 and 2.2 A and AA rules: any violation fails.

Every failure of every page is gathered before the step fails, so one run
lists them all.
"""

import re

SIZES = ((1280, 900), (390, 844))
THEMES = ("light", "dark")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then((r) => done(r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + (n.failureSummary ? ': ' + n.failureSummary.replace(/\\s+/g, ' ').slice(0, 160) : '')),
      count: v.nodes.length}))))
  .catch((e) => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: [], count: 1}]));
"""


def theme(driver, name):
    """Emulates the system's colour scheme (and reduced motion, which the
    pages honour, so screenshots never catch a transition half-way)."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": name},
        {"name": "prefers-reduced-motion", "value": "reduce"},
    ]})


def size(driver, width, height):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600,
    })


def reset(driver):
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def axe(browser, source):
    """axe-core's WCAG A/AA violations on the current page."""
    driver = browser.driver
    if not driver.execute_script("return typeof window.axe === 'object';"):
        driver.execute_script(source)
    driver.set_script_timeout(60)
    return driver.execute_async_script(RUN_AXE, AXE_TAGS)


def pages(browser, who, paths, axe_source):
    """Checks every (name, path) of paths as `who` sees them; returns the
    failures, one line each."""
    driver = browser.driver
    failures = []
    try:
        for name, path in paths:
            for scheme in THEMES:
                theme(driver, scheme)
                for width, height in SIZES:
                    size(driver, width, height)
                    browser.open(path)
                    where = f"{path} ({who}, {scheme}, {width}x{height})"
                    if browser.path().startswith("/auth/sign_in") and not path.startswith("/auth/"):
                        failures.append(f"{where}: sent to the sign-in page")
                        continue
                    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
                    browser.screenshot(f"audit-{who}-{slug}-{scheme}-{width}")
                    wide = driver.execute_script(
                        "return [document.documentElement.scrollWidth, window.innerWidth];")
                    if wide[0] > wide[1]:
                        detail = browser.overflow()
                        furthest = ", ".join(detail["widest"]) if detail else ""
                        failures.append(f"{where}: the document is {wide[0]} px wide in a {wide[1]} px window"
                                        f"{'; furthest out: ' + furthest if furthest else ''}")
                    for v in axe(browser, axe_source):
                        failures.append(f"{where}: axe {v['id']} ({v['impact']}, {v['count']} "
                                        f"element{'s' if v['count'] != 1 else ''}): {v['help']}; "
                                        + " | ".join(v["nodes"]))
    finally:
        reset(driver)
    return failures
