"""The console in a real browser (Chromium, headless, through Selenium and
chromedriver): logs in as each role, walks its pages, and checks what a
person would see: charts drawn, drifted orders in red, a customer found and
its lineage graph, a query's rows, errors shown where they happen, the
language switch, and logging out. Any error in the browser's console fails.

Usage: python3 console.py BASE_URL ORDER   (ORDER: channel:order_id of a
demo order; the users are those `server/tests/it/console.rs` configures).
"""

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, ORDER = sys.argv[1], sys.argv[2]
SCREENSHOTS = os.environ.get("SCREENSHOTS")
PASSWORDS = {
    "admin": "admin secret",
    "analyst": "analyst secret",
    "support": "support secret",
    "marketing": "marketing secret",
}


def query(sql):
    """Rows of `sql`, asked of the API as the admin: what the pages must show."""
    request = urllib.request.Request(
        BASE + "/v1/sql",
        data=json.dumps({"sql": sql}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(b"admin-user:admin secret").decode(),
        },
    )
    with urllib.request.urlopen(request) as r:
        return json.loads(r.read())


def shoot(driver, name):
    """Saves the page as `SCREENSHOTS/<name>.png` when SCREENSHOTS is set."""
    if SCREENSHOTS:
        time.sleep(1.5)  # charts animate in
        driver.save_screenshot(os.path.join(SCREENSHOTS, f"{name}.png"))


def browser():
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,768"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


def wait(driver, condition, what, seconds=120):
    # The pages redraw as data arrives: an element read may have been
    # replaced meanwhile, and is read again.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    try:
        return WebDriverWait(driver, seconds, ignored_exceptions=ignored).until(condition)
    except Exception:
        errors = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".error")]
        raise AssertionError(f"waiting for {what}; errors on the page: {errors}; at {driver.current_url}")


def visible(driver, selector, what):
    return wait(driver, ec.visibility_of_element_located((By.CSS_SELECTOR, selector)), what)


def expected(entry):
    """A failed request the page meant to make: asking for a session before
    logging in, and the wrong password tried on purpose."""
    message = entry["message"]
    return entry["source"] == "network" and "status of 401" in message and (
        "/console/session " in message or "/console/login " in message
    )


def no_errors(driver, page):
    shown = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".error")]
    assert not shown, f"{page}: errors shown: {shown}"
    logged = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and not expected(e)]
    assert not logged, f"{page}: errors in the browser console: {logged}"


def loaded(driver):
    """Every placeholder of the page has loaded."""
    wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".loading"), "the page to load")


def charts_drawn(driver, page, at_least=1):
    wait(
        driver,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".chart canvas")) >= at_least,
        f"{at_least} chart(s) on {page}",
    )


def graph_nodes(driver, mcid):
    """The nodes of the lineage graph drawn, and the identifiers and merged
    MCIDs SQL says the customer `mcid` has."""
    identifiers = query(
        f"SELECT count(DISTINCT kind || ':' || value) AS n FROM identity_evidence WHERE mcid = '{mcid}' AND kind <> 'correction'"
    )[0]["n"]
    merged = query(f"SELECT count(DISTINCT old_mcid) AS n FROM mcid_aliases WHERE new_mcid = '{mcid}'")[0]["n"]
    nodes = driver.execute_script(
        "const box = document.querySelector('#card .chart');"
        "return echarts.getInstanceByDom(box).getOption().series[0].data.length;"
    )
    return nodes, identifiers, merged


def log_in(driver, role, password=None):
    driver.get(BASE + "/")
    visible(driver, "#login", "the login form")
    driver.find_element(By.NAME, "user").send_keys(f"{role}-user")
    driver.find_element(By.NAME, "password").send_keys(password or PASSWORDS[role])
    driver.find_element(By.CSS_SELECTOR, "#login button").click()


def pages(driver):
    visible(driver, "header nav a", "the navigation")
    return [a.get_attribute("data-page") for a in driver.find_elements(By.CSS_SELECTOR, "header nav a")]


def go(driver, page):
    driver.get(f"{BASE}/#/{page}")
    driver.refresh()
    visible(driver, f'header nav a.here[data-page="{page}"]', f"the {page} page")
    loaded(driver)


def admin(driver):
    log_in(driver, "admin", "not the password")
    wrong = visible(driver, "#login .error", "the wrong-password message")
    assert wrong.text, "a wrong password says so"
    driver.find_element(By.NAME, "password").clear()
    driver.find_element(By.NAME, "password").send_keys(PASSWORDS["admin"])
    driver.find_element(By.CSS_SELECTOR, "#login button").click()
    assert pages(driver) == ["overview", "status", "refunds", "stock", "customers", "segments", "sql"]

    go(driver, "overview")
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".tile")) == 6, "the overview tiles")
    charts_drawn(driver, "overview", 2)
    # The tiles say what the views say.
    latest = query("SELECT drift_rate FROM drift_rate_monthly ORDER BY month DESC LIMIT 1")[0]
    stuck = query("SELECT count(*) AS n FROM refund_escalations")[0]["n"]
    tiles = [t.find_element(By.TAG_NAME, "b").text for t in driver.find_elements(By.CSS_SELECTOR, ".tile")]
    assert tiles[1] == f"{100 * latest['drift_rate']:.1f}%", (tiles, latest)
    assert tiles[2] == str(stuck), (tiles, stuck)
    assert tiles[5].isdigit(), tiles  # alerts firing: they change as they are evaluated
    no_errors(driver, "overview")
    shoot(driver, "overview")

    go(driver, "status")
    visible(driver, "tr.bad", "drifted orders in red")
    visible(driver, "tr.bad mark", "the disagreeing systems marked")
    charts_drawn(driver, "status")
    drifted = query("SELECT count(*) AS n FROM status_consistency WHERE NOT consistent")[0]["n"]
    rows = len(driver.find_elements(By.CSS_SELECTOR, "section:first-of-type tbody tr.bad"))
    assert rows == min(200, drifted), (rows, drifted)
    shoot(driver, "status")
    # A force-sync through the page lands in the audit log.
    row = driver.find_element(By.CSS_SELECTOR, "tr.bad")
    cells = row.find_elements(By.TAG_NAME, "td")
    channel, order_id = cells[0].text, cells[1].text.split(" ")[0]
    row.find_element(By.CSS_SELECTOR, "button.small").click()
    form = visible(driver, "form.force", "the force-sync form")
    status = form.find_element(By.NAME, "status")
    status.clear()
    status.send_keys("refunded")
    form.find_element(By.NAME, "reason").send_keys("the refund went through on the platform")
    form.find_element(By.CSS_SELECTOR, "button").click()
    visible(driver, "span.ok", "the force-sync sent")
    audit = query(
        f"SELECT actor, detail FROM audit_log WHERE action = 'force_sync' AND target = '{channel}:{order_id}'"
    )
    assert audit and audit[0]["actor"] == "admin-user", audit
    assert "the refund went through" in audit[0]["detail"], audit
    no_errors(driver, "force-sync")
    go(driver, "status")
    visible(driver, "tr.bad", "drifted orders in red")
    Select(driver.find_element(By.NAME, "system")).select_by_value("wms")
    visible(driver, "tr.bad", "drifted orders with a WMS status")
    # The shipped guard: shipping without evidence is refused, and says why.
    driver.find_element(By.CSS_SELECTOR, "tr.bad button.small").click()
    form = visible(driver, "form.force", "the force-sync form")
    status = form.find_element(By.NAME, "status")
    status.clear()
    status.send_keys("shipped")
    form.find_element(By.NAME, "reason").send_keys("platform shows paid, parcel left")
    form.find_element(By.CSS_SELECTOR, "button").click()
    refusal = visible(driver, "form.force .error", "the shipped guard's refusal")
    assert "tracking_no" in refusal.text or "held" in refusal.text, refusal.text
    for entry in driver.get_log("browser"):
        # The refused request (422) is logged by the browser; it is expected.
        assert entry["level"] != "SEVERE" or "status of 422" in entry["message"] or expected(entry), entry

    go(driver, "refunds")
    charts_drawn(driver, "refunds", 3)
    shoot(driver, "refunds")
    Select(driver.find_element(By.NAME, "measure")).select_by_value("rejection_rate")
    charts_drawn(driver, "refunds", 3)
    no_errors(driver, "refunds")

    go(driver, "stock")
    charts_drawn(driver, "stock")
    shown = len(driver.find_elements(By.CSS_SELECTOR, "section:first-of-type tbody tr"))
    forecast = query("SELECT count(*) AS n FROM stock_forecast")[0]["n"]
    assert shown == min(200, forecast), (shown, forecast)
    no_errors(driver, "stock")
    shoot(driver, "stock")

    go(driver, "customers")
    Select(driver.find_element(By.NAME, "by")).select_by_value("order")
    driver.find_element(By.NAME, "q").send_keys(ORDER)
    driver.find_element(By.CSS_SELECTOR, "#search button").click()
    card = visible(driver, "#card .card h2", "the customer card")
    assert card.text.startswith("MC"), card.text
    charts_drawn(driver, "the lineage graph")
    visible(driver, "#card a.button[href$='lineage.pdf']", "the PDF button")
    order_id = ORDER.split(":", 1)[1]
    wait(driver, lambda d: order_id in d.find_element(By.ID, "card").text, "the order in the lineage")
    # The graph has a node per order, per identifier and for the customer.
    mcid = card.text.split()[0]
    orders = query(f"SELECT count(*) AS n FROM orders WHERE mcid = '{mcid}'")[0]["n"]
    nodes, identifiers, merged = graph_nodes(driver, mcid)
    assert nodes == 1 + orders + identifiers + merged, (nodes, orders, identifiers, merged)
    # Times are shown in business time (Asia/Shanghai), as SQL cuts them.
    channel = ORDER.split(":", 1)[0]
    ordered_at = query(
        "SELECT to_char(business_time(ordered_at), '%Y-%m-%d %H:%M:%S') AS t FROM orders "
        f"WHERE channel = '{channel}' AND order_id = '{order_id}'"
    )[0]["t"]
    assert ordered_at in driver.find_element(By.ID, "card").text, ordered_at
    no_errors(driver, "customers")
    shoot(driver, "customers")

    # The heaviest buyer's orders are drawn as one node per channel and
    # business month.
    heavy = query("SELECT mcid, orders FROM customers ORDER BY orders DESC, mcid LIMIT 1")[0]
    assert heavy["orders"] > 40, heavy
    driver.get(f"{BASE}/#/customers/{heavy['mcid']}")
    driver.refresh()
    visible(driver, "#card .card h2", "the heavy buyer's card")
    charts_drawn(driver, "the heavy buyer's lineage graph")
    groups = query(
        "SELECT count(DISTINCT channel || to_char(business_time(ordered_at), '%Y-%m')) AS n "
        f"FROM orders WHERE mcid = '{heavy['mcid']}'"
    )[0]["n"]
    nodes, identifiers, merged = graph_nodes(driver, heavy["mcid"])
    assert nodes == 1 + groups + identifiers + merged, (nodes, groups, identifiers, merged)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#card tbody tr")) >= heavy["orders"]
    no_errors(driver, "a heavy buyer")

    go(driver, "segments")
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "section h2"), "the segments")
    # One chart per segment with members: its size by month.
    sized = sum(
        1
        for name in ("high_value_prospects", "new_customer_coupon_abuse", "lapsed_big_spenders")
        if query(f"SELECT count(*) AS n FROM {name}")[0]["n"] > 0
    )
    charts_drawn(driver, "segments", sized)
    no_errors(driver, "segments")
    shoot(driver, "segments")

    go(driver, "sql")
    editor = visible(driver, "#query", "the SQL editor")
    editor.clear()
    editor.send_keys("SELECT channel, count(*) AS n FROM orders GROUP BY channel ORDER BY channel")
    driver.find_element(By.ID, "run").click()
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#result tbody tr")) >= 5, "the query's rows")
    channels = query("SELECT count(DISTINCT channel) AS n FROM orders")[0]["n"]
    assert len(driver.find_elements(By.CSS_SELECTOR, "#result tbody tr")) == channels
    shoot(driver, "sql")
    editor.clear()
    editor.send_keys("SELECT no_such_column FROM orders")
    driver.find_element(By.ID, "run").click()
    error = visible(driver, "#result .error", "the query's error")
    assert "no_such_column" in error.text, error.text
    for entry in driver.get_log("browser"):
        # The refused query (400) is logged by the browser; it is expected.
        assert entry["level"] != "SEVERE" or "status of 400" in entry["message"], entry

    # English, then back; the choice outlives a reload.
    driver.find_element(By.CSS_SELECTOR, "button.lang").click()
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, 'nav a[data-page="overview"]').text == "Overview", "English")
    driver.refresh()
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, 'nav a[data-page="overview"]').text == "Overview", "English after a reload")
    driver.find_element(By.CSS_SELECTOR, "button.lang").click()
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, 'nav a[data-page="overview"]').text == "总览", "Chinese")

    driver.find_element(By.ID, "logout").click()
    visible(driver, "#login", "the login form after logging out")
    driver.refresh()
    visible(driver, "#login", "no session after logging out")


def others(driver):
    log_in(driver, "support")
    assert pages(driver) == ["customers"], pages(driver)
    driver.find_element(By.ID, "logout").click()
    visible(driver, "#login", "the login form")

    log_in(driver, "marketing")
    assert pages(driver) == ["segments"], pages(driver)
    # Marketing reads no SQL, and still sees each segment's size by month.
    charts_drawn(driver, "the marketer's segments")
    no_errors(driver, "the marketer's segments")
    driver.find_element(By.ID, "logout").click()
    visible(driver, "#login", "the login form")

    log_in(driver, "analyst")
    assert "customers" not in pages(driver)
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".tile")) == 5, "the analyst's tiles: no alerts")
    go(driver, "sql")
    editor = visible(driver, "#query", "the SQL editor")
    editor.clear()
    editor.send_keys("SELECT phone FROM customer_contacts WHERE phone IS NOT NULL LIMIT 20")
    driver.find_element(By.ID, "run").click()
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#result tbody tr")) >= 5, "contacts")
    phones = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#result tbody td")]
    assert all("*" in p for p in phones), f"an analyst sees phones masked: {phones}"
    no_errors(driver, "analyst sql")


def ready():
    """Waits until every maintained view is built (`/readyz`), so the pages
    time what a user waits for, not the start-up."""
    deadline = time.time() + 600
    while True:
        try:
            with urllib.request.urlopen(BASE + "/readyz") as r:
                if r.status == 200:
                    return
        except urllib.error.URLError:
            pass
        assert time.time() < deadline, "the server never became ready"
        time.sleep(1)


def main():
    ready()
    driver = browser()
    started = time.time()
    try:
        admin(driver)
        others(driver)
    finally:
        driver.quit()
    print(f"console checked in a browser in {time.time() - started:.1f} s")


main()
