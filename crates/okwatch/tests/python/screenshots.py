"""Takes the README's screenshots of the console, from a running `okwatch demo`.

Usage: screenshots.py BASE_URL ADMIN_PASSWORD OUT_DIR
  (the venv the console's browser test makes has selenium; Debian's chromium and chromedriver)

The same browser set-up as console_browser.py: headless Chromium through its chromedriver, no
network but the console's.
"""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

base, password, out = sys.argv[1], sys.argv[2], sys.argv[3]
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--hide-scrollbars", "--window-size=1280,860"]:
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get(base + "/login")
    driver.find_element(By.ID, "name").send_keys("admin")
    driver.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
    time.sleep(1)
    shots = [
        ("explorer", "/?since=-7d"),
        ("failures", "/?since=-30d&filter=eventType%20eq%20%22user.session.start%22%20and%20"
                     "outcome.result%20eq%20%22FAILURE%22"),
        ("map", "/map?since=-30d&filter=eventType%20eq%20%22user.session.start%22"),
        ("saved", "/saved"),
        ("report", "/reports/authentication?since=-30d"),
        ("report-apps", "/reports/app_access?since=-30d"),
        ("apps", "/apps"),
    ]
    for name, path in shots:
        driver.get(base + path)
        time.sleep(1)
        driver.save_screenshot(f"{out}/{name}.png")
    # An event's page: the newest failed sign-in.
    driver.get(base + shots[1][1])
    driver.find_element(By.CSS_SELECTOR, "table.results td.time a").click()
    time.sleep(1)
    driver.save_screenshot(f"{out}/event.png")
    # A scheduled report, run once into the demo's `outbox` channel.
    driver.get(base + "/reports/failed_sign_ins?since=-30d")
    driver.find_element(By.LINK_TEXT, "Schedule it").click()
    Select(driver.find_element(By.NAME, "every")).select_by_value("weekly")
    for box in driver.find_elements(By.NAME, "channel"):
        box.click()
    driver.find_element(By.CSS_SELECTOR, "form.schedule-form button[type=submit]").click()
    # The schedule's page loads after the form is sent: wait for its button.
    WebDriverWait(driver, 15).until(
        ec.element_to_be_clickable((By.XPATH, "//button[contains(., 'Run now')]"))
    ).click()
    time.sleep(3)
    driver.refresh()
    time.sleep(1)
    driver.save_screenshot(f"{out}/schedule.png")
    # A person's page, reached as an admin would: the search box, an app, one of its people.
    driver.get(base + "/apps")
    box = driver.find_element(By.ID, "find")
    box.send_keys("slack")
    time.sleep(1)
    box.send_keys(Keys.ARROW_DOWN, Keys.ENTER)
    time.sleep(1.5)
    driver.find_element(By.CSS_SELECTOR, "table.people td a").click()
    time.sleep(1.5)
    driver.save_screenshot(f"{out}/person.png")
finally:
    driver.quit()
