"""Drives okwatch's console in Debian's headless Chromium through its chromedriver.

Usage: console_browser.py BASE_URL ADMIN_PASSWORD SCREENSHOT_DIR HOOK_URL HOOK_SECRET
Prints what the pages showed, as JSON, for the Rust test to check. While the System Log's live
tail runs, it delivers one new event through the org's Event Hook, as Okta would.
"""
import datetime
import json
import sys
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

base, password, shots, hook_url, hook_secret = sys.argv[1:6]


def deliver(event):
    """One Event Hook delivery, in Okta's shape."""
    body = json.dumps({"eventType": "com.okta.event_hook", "data": {"events": [event]}})
    request = urllib.request.Request(
        hook_url, data=body.encode(), method="POST",
        headers={"Authorization": hook_secret, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
# The machine's network is closed: no background connections, no component updates.
for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--window-size=1400,1000"]:
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 20)
seen = {}
try:
    driver.get(base + "/?since=all")
    wait.until(ec.presence_of_element_located((By.ID, "password")))
    driver.find_element(By.ID, "name").send_keys("admin")
    driver.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.results")))
    seen["title"] = driver.title
    seen["rows"] = len(driver.find_elements(By.CSS_SELECTOR, "table.results tbody tr"))
    driver.save_screenshot(f"{shots}/explorer.png")

    # A typed filter with a mistake, run with Ctrl+Enter.
    box = driver.find_element(By.ID, "filter")
    box.send_keys('outcome.result eq "FAILURE" and')
    box.send_keys(Keys.CONTROL, Keys.ENTER)
    problem = wait.until(ec.presence_of_element_located((By.ID, "filter-problem")))
    seen["filter_problem"] = problem.text
    seen["caret"] = problem.find_element(By.TAG_NAME, "mark").get_attribute("textContent")

    # The quick filter instead: a removable chip, only failures listed.
    driver.get(base + "/?since=all")
    driver.find_element(By.LINK_TEXT, "Failures").click()
    chip = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "a.chip")))
    seen["chip"] = chip.text
    seen["outcomes"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "td .outcome")]

    # Open the first event, then the events around it.
    link = driver.find_element(By.CSS_SELECTOR, "table.results td.time a")
    href = link.get_attribute("href")
    seen["event_uuid"] = href.rsplit("/", 1)[1]
    link.click()
    raw = wait.until(ec.presence_of_element_located((By.ID, "raw")))
    seen["raw"] = raw.text
    driver.save_screenshot(f"{shots}/event.png")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Events around it").click()
    highlighted = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "tr.highlight td.time a")))
    seen["highlighted_href"] = highlighted.get_attribute("pathname")
    seen["around_rows"] = len(driver.find_elements(By.CSS_SELECTOR, "table.results tbody tr"))

    # Field statistics over all matches: a value narrows the search to it.
    driver.get(base + "/?since=all")
    stat = driver.find_element(By.CSS_SELECTOR, "aside.stats li a.value")
    seen["stat_value"] = stat.text
    seen["stat_count"] = int(stat.find_element(By.XPATH, "following-sibling::span").text)
    stat.click()
    seen["stat_chip"] = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "a.chip"))).text
    seen["stat_total"] = int(driver.find_element(By.CSS_SELECTOR, "section.summary strong").text)
    driver.save_screenshot(f"{shots}/stats.png")

    # Save the narrowed search, find it among the saved ones, open it again.
    driver.find_element(By.CSS_SELECTOR, "details.save summary").click()
    driver.find_element(By.CSS_SELECTOR, "details.save input[name=name]").send_keys("Top event type")
    driver.find_element(By.CSS_SELECTOR, "details.save button").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.saved")))
    seen["saved_names"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "table.saved a.open")]
    driver.save_screenshot(f"{shots}/saved.png")
    driver.find_element(By.LINK_TEXT, "Top event type").click()
    seen["reopened_chip"] = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "a.chip"))).text

    # Columns and time zone: Targets off, Org on, New York time; kept for the next pages.
    driver.get(base + "/?since=all")
    driver.find_element(By.CSS_SELECTOR, "details.columns summary").click()
    driver.find_element(By.CSS_SELECTOR, "input[name=col][value=targets]").click()
    driver.find_element(By.CSS_SELECTOR, "input[name=col][value=org]").click()
    Select(driver.find_element(By.ID, "tz")).select_by_value("America/New_York")
    driver.find_element(By.CSS_SELECTOR, "details.columns button").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".time-heading"), "New_York"))
    driver.get(base + "/?since=all")
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".time-heading"), "New_York"))
    seen["headings"] = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "table.results th")]
    first_time = driver.find_element(By.CSS_SELECTOR, "td.time time")
    seen["shown_time"] = first_time.text
    seen["utc_time"] = first_time.get_attribute("datetime")
    driver.save_screenshot(f"{shots}/columns.png")

    # Live tail: an event delivered by the hook appears on top of the last hour's list.
    driver.get(base + "/?since=-1h")
    driver.find_element(By.ID, "live").click()
    new_uuid = str(uuid.uuid4())
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    seen["hook_status"] = deliver({
        "uuid": new_uuid, "published": now, "eventType": "user.session.start",
        "version": "0", "severity": "INFO", "displayMessage": "User login to Okta",
        "actor": {"id": "00ulive", "type": "User", "alternateId": "live@example.com"},
        "outcome": {"result": "SUCCESS"}, "client": {"ipAddress": "198.51.100.7"}, "target": [],
    })
    seen["live_uuid"] = new_uuid
    WebDriverWait(driver, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-uuid="{new_uuid}"]'))
    seen["live_row"] = True
    seen["live_first"] = driver.find_element(By.CSS_SELECTOR, "#rows tr").get_attribute("data-uuid")

    driver.find_element(By.CSS_SELECTOR, "nav.user button").click()
    wait.until(ec.presence_of_element_located((By.ID, "password")))
    seen["after_sign_out"] = driver.title
    seen["console_errors"] = [
        entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
    ]
finally:
    driver.quit()
print(json.dumps(seen))
