"""Walks the console's search box in Debian's headless Chromium: part of an app's name typed
on any page, the suggestion chosen with the keyboard, the app's page, one of its people, their
page; then a name that answers several, sent without a choice, lists them.

Usage: apps_browser.py BASE_URL ADMIN_PASSWORD APP_TYPED AMBIGUOUS_TYPED
Prints what the pages showed, as JSON, for the Rust test to check.
"""
import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

base, password, typed, ambiguous = sys.argv[1:5]
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--window-size=1400,1000"]:
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 15)
seen = {}
try:
    driver.get(base + "/login")
    driver.find_element(By.ID, "name").send_keys("admin")
    driver.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "find")))
    # From the reports page: Ctrl+K puts the cursor in the box, a few letters suggest the app.
    driver.get(base + "/reports")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.CONTROL, "k")
    seen["focused"] = driver.switch_to.active_element.get_attribute("id")
    driver.switch_to.active_element.send_keys(typed)
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#find-list li")))
    seen["suggested"] = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#find-list li")]
    box = driver.find_element(By.ID, "find")
    box.send_keys(Keys.ARROW_DOWN)
    seen["chosen"] = box.get_attribute("aria-activedescendant")
    box.send_keys(Keys.ENTER)
    wait.until(ec.url_contains("/apps/"))
    seen["app_url"] = driver.current_url
    seen["app_title"] = driver.find_element(By.TAG_NAME, "h1").text
    # One of its people (a name links to their page).
    person = driver.find_element(By.CSS_SELECTOR, "table.people td a")
    seen["person_clicked"] = person.text
    person.click()
    wait.until(ec.url_contains("/people/"))
    seen["person_url"] = driver.current_url
    seen["person_title"] = driver.find_element(By.TAG_NAME, "h1").text
    seen["person_apps"] = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "table.person-apps td:first-child a")]
    seen["person_map"] = len(driver.find_elements(By.CSS_SELECTOR, "figure.map svg"))
    # A name several answer, sent without choosing: the list of them.
    box = driver.find_element(By.ID, "find")
    box.send_keys(ambiguous)
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#find-list li")))
    box.send_keys(Keys.ESCAPE)
    seen["closed_kept"] = [driver.find_element(By.ID, "find-list").is_displayed(), box.get_attribute("value")]
    box.send_keys(Keys.ENTER)
    wait.until(ec.url_contains("/find?"))
    seen["find_title"] = driver.find_element(By.TAG_NAME, "h1").text
    seen["find_rows"] = len(driver.find_elements(By.CSS_SELECTOR, "table.find tbody tr"))
    seen["errors"] = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
finally:
    driver.quit()
print(json.dumps(seen))
