"""Times each console page in headless Chromium against a running server:
from navigation until every placeholder has loaded and the page's tables
and charts are drawn. Prints the median of RUNS loads per page.

Usage: python3 benches/console/pages.py BASE_URL USER PASSWORD [RUNS]
(e.g. against `scripts/ordergraph serve --demo` with a user configured).
"""

import statistics
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE, USER, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]
RUNS = int(sys.argv[4]) if len(sys.argv) > 4 else 5
PAGES = ["overview", "status", "refunds", "stock", "segments", "sql"]

options = webdriver.ChromeOptions()
for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,768"):
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


def drawn(d):
    return (
        d.find_elements(By.CSS_SELECTOR, "header nav a.here")
        and not d.find_elements(By.CSS_SELECTOR, ".loading")
        and d.find_elements(By.CSS_SELECTOR, "main table, main .chart canvas, main ul.tables li")
    )


try:
    driver.get(BASE + "/")
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.NAME, "user"))
    driver.find_element(By.NAME, "user").send_keys(USER)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login button").click()
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "header nav a"))
    print("| page | median s | min s | max s |")
    print("|---|---|---|---|")
    for page in PAGES:
        times = []
        for _ in range(RUNS):
            driver.get("about:blank")
            started = time.perf_counter()
            driver.get(f"{BASE}/#/{page}")
            WebDriverWait(driver, 120, poll_frequency=0.02).until(drawn)
            times.append(time.perf_counter() - started)
        print(f"| {page} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} |")
finally:
    driver.quit()
