"""Drives okwatch's reports in Debian's headless Chromium through its chromedriver.

Usage: reports_browser.py BASE_URL ADMIN_PASSWORD SCREENSHOT_DIR
Prints what the pages showed, as JSON, for the Rust test to check: the reports listed, a
report's first figure and the explorer's total after following it, a table row's number and
the explorer's total after following it, the report's CSV (fetched with the session), and a
schedule made from the report's page and run now.
"""
import json
import re
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

base, password, shots = sys.argv[1:4]

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--window-size=1400,1000"]:
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 30)
seen = {}


def explorer_total():
    """The explorer's count of matching events."""
    summary = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "section.summary strong")))
    return int(re.sub(r"\D", "", summary.text))


try:
    driver.get(base + "/reports")
    wait.until(ec.presence_of_element_located((By.ID, "password")))
    driver.find_element(By.ID, "name").send_keys("admin")
    driver.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.report-list")))
    seen["listed"] = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "ul.report-list a")]
    driver.save_screenshot(f"{shots}/reports.png")

    # Failed sign-ins over all history, from the list and the period presets, by keyboard.
    driver.find_element(By.LINK_TEXT, "Failed sign-ins").send_keys(Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "section.figures")))
    driver.find_element(By.LINK_TEXT, "All history").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "a.preset.current")))
    seen["title"] = driver.title
    seen["current_period"] = driver.find_element(By.CSS_SELECTOR, "a.preset.current").text
    seen["series"] = len(driver.find_elements(By.CSS_SELECTOR, "figcaption.legend a"))
    seen["bars"] = len(driver.find_elements(By.CSS_SELECTOR, "svg.chart g rect"))
    driver.save_screenshot(f"{shots}/report.png")
    report_url = driver.current_url

    figure = driver.find_element(By.CSS_SELECTOR, "a.figure")
    seen["figure_label"] = figure.find_element(By.CSS_SELECTOR, ".label").text
    seen["figure_value"] = int(figure.find_element(By.CSS_SELECTOR, ".value").text)
    figure.click()
    seen["figure_total"] = explorer_total()

    # The top row of the first table (top accounts), followed.
    driver.get(report_url)
    cell = wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, ".report-tables table tbody tr td.num a")))
    row = cell.find_element(By.XPATH, "./ancestor::tr")
    seen["row_key"] = row.find_element(By.TAG_NAME, "td").text
    seen["row_value"] = int(cell.text)
    cell.click()
    seen["row_total"] = explorer_total()
    seen["row_chip"] = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "a.chip")]

    # The CSV, downloaded with the session's cookie.
    driver.get(report_url)
    link = wait.until(ec.presence_of_element_located((By.LINK_TEXT, "Download CSV")))
    href = link.get_attribute("href")
    seen["csv"] = driver.execute_async_script(
        "const done = arguments[1];"
        "fetch(arguments[0]).then(r => r.text().then(t => done([r.status, r.headers.get('content-disposition'), t])));",
        href)

    # Scheduled: from the report's "Schedule it", every day, to the archive directory; then
    # "Run now", until its delivery is sent.
    driver.get(report_url)
    driver.find_element(By.LINK_TEXT, "Schedule it").click()
    form = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "form.schedule-form")))
    seen["schedule_name"] = form.find_element(By.NAME, "name").get_attribute("value")
    seen["schedule_zone"] = form.find_element(By.NAME, "timezone").get_attribute("value")
    every = form.find_element(By.NAME, "every")
    every.find_element(By.CSS_SELECTOR, "option[value=daily]").click()
    seen["weekday_shown"] = form.find_element(By.NAME, "weekday").is_displayed()
    seen["time_shown"] = form.find_element(By.NAME, "at").is_displayed()
    form.find_element(By.CSS_SELECTOR, "input[name=channel][value=archive]").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "dl.facts")))
    seen["schedule_when"] = driver.find_element(By.CSS_SELECTOR, "dl.facts").text
    driver.find_element(By.XPATH, "//button[text()='Run now']").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.notice")))
    for _ in range(60):
        delivered = driver.find_elements(By.CSS_SELECTOR, "ul.deliveries .delivery.sent")
        if delivered:
            break
        time.sleep(0.5)
        driver.refresh()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.runs")))
    seen["run_row"] = driver.find_element(By.CSS_SELECTOR, "table.runs tbody tr").text
    driver.save_screenshot(f"{shots}/schedule.png")
    seen["console_errors"] = [
        e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
finally:
    driver.quit()
print(json.dumps(seen))
