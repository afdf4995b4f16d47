"""The web console in a real browser: Debian's Chromium driven by Selenium
through chromedriver, against the real daemon. Each step leaves a
screenshot in the artifacts directory (`SHOOTS_ARTIFACTS`, by default
`test-artifacts/console` under the cargo target directory)."""

import base64
import csv
import hashlib
import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.flight as flight
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as shown
from selenium.webdriver.support.ui import WebDriverWait

from conftest import Daemon
from helpers import SECRET, jwt, put, tls_files, wait_for

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def artifacts() -> Path:
    explicit = os.environ.get("SHOOTS_ARTIFACTS")
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.expanduser("~/.cache/shoots/target")
    path = Path(explicit) if explicit else Path(target) / "test-artifacts" / "console"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_browser(tmp_path, extra_flags=()):
    # The test command installs both; without them this fails, never skips.
    for program in (CHROMIUM, CHROMEDRIVER):
        assert shutil.which(program), f"{program} is missing: apt-get install chromium chromium-driver"
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # The flags keep Chromium from reaching for Google's services, which a
    # closed network refuses many times a second.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1400,900", f"--user-data-dir={tmp_path / 'profile'}",
                 *extra_flags):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    return driver


@pytest.fixture
def browser(tmp_path):
    driver = start_browser(tmp_path)
    yield driver
    driver.quit()


def wait(driver, condition, seconds=60):
    return WebDriverWait(driver, seconds).until(condition)


def screenshot(driver, step):
    driver.save_screenshot(str(artifacts() / f"{step}.png"))


def sensors(n, start=0):
    """A reading a minute from minute `start` on."""
    minutes = range(start, start + n)
    return pa.table({
        "ts": pa.array([i * 60_000_000_000 for i in minutes], pa.timestamp("ns", tz="UTC")),
        "site": pa.array([f"s{i % 3}" for i in minutes]),
        "value": pa.array([(i % 17) * 1.5 for i in minutes]),
    })


def run_query(driver, sql):
    editor = driver.find_element(By.ID, "sql")
    editor.clear()
    editor.send_keys(sql)
    before = driver.find_element(By.ID, "status").get_attribute("data-rows")
    editor.send_keys(Keys.CONTROL, Keys.ENTER)
    # The status gets its data-rows once the whole result was read.
    wait(driver, lambda d: d.find_element(By.ID, "status").get_attribute("data-rows") not in (None, before)
         or d.find_element(By.ID, "error").is_displayed())


def test_browse_query_chart_and_download(browser, tmp_path):
    d = Daemon(tmp_path / "buckets", extra_args=["--http-port", "0"])
    try:
        c = d.client()
        put(c, "readings", sensors(50), bucket="lab")
        put(c, "readings", sensors(10, start=50), bucket="lab", mode="append")
        # The last ten again, by key: a version that changes rows but not the table.
        put(c, "readings", sensors(10, start=50), bucket="lab", mode="upsert", keys=["ts"])
        put(c, "plain", sensors(5))
        browser.get(d.http_url + "/")
        lab = wait(browser, shown.element_to_be_clickable((By.CSS_SELECTOR, "button[data-bucket='lab']")))
        assert browser.find_element(By.CSS_SELECTOR, "button[data-bucket='_default']").text == "▸ (default)"
        screenshot(browser, "01-buckets")

        lab.click()
        frame = wait(browser, shown.element_to_be_clickable((By.CSS_SELECTOR, "button[data-frame='readings']")))
        meta = frame.find_element(By.XPATH, "following-sibling::span[@class='meta']").text
        assert meta.startswith("60 rows") and meta.endswith("v3"), meta
        screenshot(browser, "02-bucket")

        frame.click()
        column = wait(browser, shown.visibility_of_element_located((By.CSS_SELECTOR, "li[data-column='value']")))
        assert column.text == "valueFloat64"
        wait(browser, shown.visibility_of_element_located((By.ID, "details")))
        history = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                   for tr in browser.find_elements(By.CSS_SELECTOR, "#history tr")[1:]]
        assert [(h[0], h[2], h[3], h[4]) for h in history] == [
            ("3", "upsert", "60", "+0 ~10"), ("2", "append", "60", "+10"), ("1", "create", "50", "+50")]
        assert browser.find_element(By.ID, "sql").get_attribute("value") == "select * from lab.readings limit 100"
        screenshot(browser, "03-dataframe")

        run_query(browser, "select site, count(*) as n from lab.readings group by site order by site")
        assert browser.find_element(By.ID, "status").get_attribute("data-rows") == "3"
        assert browser.find_element(By.ID, "status").text.startswith("3 rows · ")
        cells = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                 for tr in browser.find_elements(By.CSS_SELECTOR, "#result-table tr")[1:]]
        assert cells == [["s0", "20"], ["s1", "20"], ["s2", "20"]]
        assert not browser.find_element(By.ID, "chart").is_displayed()  # no time column
        screenshot(browser, "04-query")

        run_query(browser, "select ts, value, value * 2 as twice from lab.readings order by ts")
        assert browser.find_element(By.ID, "status").get_attribute("data-rows") == "60"
        lines = browser.find_elements(By.CSS_SELECTOR, "#chart svg polyline")
        assert [line.get_attribute("data-series") for line in lines] == ["value", "twice"]
        assert all(len(line.get_attribute("points").split()) == 60 for line in lines)
        screenshot(browser, "05-chart")

        browser.find_element(By.ID, "download-csv").click()
        downloaded = browser.downloads / "result.csv"
        wait_for(lambda: downloaded.exists() and downloaded.stat().st_size > 0, "the CSV download")
        with open(downloaded) as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 60
        assert [float(r["value"]) for r in rows] == [(i % 17) * 1.5 for i in range(60)]
        assert rows[0]["ts"] == "1970-01-01T00:00:00Z" and rows[59]["ts"] == "1970-01-01T00:59:00Z"
        assert [float(r["twice"]) for r in rows[:3]] == [0.0, 3.0, 6.0]

        run_query(browser, "select nope from lab.readings")
        error = browser.find_element(By.ID, "error")
        assert error.is_displayed() and error.text.startswith("DataFusionError: "), error.text
        assert "nope" in error.text
        screenshot(browser, "06-error")
    finally:
        d.stop()


def test_the_console_compares_two_versions(browser, tmp_path):
    d = Daemon(tmp_path / "buckets", extra_args=["--http-port", "0"])
    try:
        c = d.client()
        put(c, "readings", sensors(50), bucket="lab")                                    # v1
        changed = sensors(53, start=0).slice(45)                                         # minutes 45..52
        changed = changed.set_column(2, "value", pa.array([100.0 + i for i in range(8)]))
        put(c, "readings", changed, bucket="lab", mode="upsert", keys=["ts"])            # v2: 5 changed, 3 new
        browser.get(d.http_url + "/")
        wait(browser, shown.element_to_be_clickable((By.CSS_SELECTOR, "button[data-bucket='lab']"))).click()
        wait(browser, shown.element_to_be_clickable((By.CSS_SELECTOR, "button[data-frame='readings']"))).click()
        wait(browser, shown.visibility_of_element_located((By.ID, "details")))
        options = lambda id: [o.text for o in browser.find_elements(By.CSS_SELECTOR, f"#{id} option")]
        assert options("diff-from") == options("diff-to") == ["v2", "v1"]
        assert browser.find_element(By.ID, "diff-from").get_attribute("value") == "1"
        assert browser.find_element(By.ID, "diff-to").get_attribute("value") == "2"

        def compare(keys):
            field = browser.find_element(By.ID, "diff-keys")
            field.clear()
            field.send_keys(keys)
            before = browser.find_element(By.ID, "diff-status").get_attribute("data-rows")
            browser.find_element(By.ID, "diff-run").click()
            wait(browser, lambda b: b.find_element(By.ID, "diff-status").get_attribute("data-rows") not in (None, before)
                 or b.find_element(By.ID, "error").is_displayed())
            assert not browser.find_element(By.ID, "error").is_displayed(), browser.find_element(By.ID, "error").text
            return browser.find_element(By.ID, "diff-status")

        status = compare("")
        assert status.text == "v1 → v2: +8 added · −5 removed"
        assert (status.get_attribute("data-added"), status.get_attribute("data-removed")) == ("8", "5")
        status = compare("ts")
        assert status.text == "v1 → v2: +3 added · −0 removed · ~5 changed"
        rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                for tr in browser.find_elements(By.CSS_SELECTOR, "#diff-table tr")[1:]]
        assert sorted((r[0], r[1], r[4]) for r in rows) == sorted(
            [("changed", "value", str(100 + i)) for i in range(5)] +
            [("added", "null", str(100 + i)) for i in range(5, 8)])
        # Both versions drawn over time.
        lines = browser.find_elements(By.CSS_SELECTOR, "#diff-chart svg polyline")
        assert [line.get_attribute("data-series") for line in lines] == ["v1 value", "v2 value"]
        assert [len(line.get_attribute("points").split()) for line in lines] == [50, 53]
        screenshot(browser, "07-diff")
    finally:
        d.stop()


def test_the_console_asks_for_a_token_and_keeps_it_for_the_tab(browser, tmp_path):
    d = Daemon(tmp_path / "buckets", extra_args=["--http-port", "0", "--secret", SECRET])
    try:
        admin = d.client()
        options = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {jwt({'type': 'admin'})}".encode())])
        for bucket in ("lab", "other"):
            writer, _ = admin.do_put(
                flight.FlightDescriptor.for_command(json.dumps({"name": "t", "bucket": bucket})),
                sensors(4).schema, options)
            writer.write_table(sensors(4))
            writer.close()
        browser.get(d.http_url + "/")
        token = wait(browser, shown.visibility_of_element_located((By.ID, "token")))
        screenshot(browser, "07-token")
        token.send_keys(jwt({"type": "read"}, secret="not the secret"), Keys.ENTER)
        message = wait(browser, lambda b: b.find_element(By.ID, "login-error").text)
        assert "InvalidSignatureError" in message
        token = browser.find_element(By.ID, "token")
        token.send_keys(jwt({"type": "read", "buckets": ["lab"]}), Keys.ENTER)
        wait(browser, shown.element_to_be_clickable((By.CSS_SELECTOR, "button[data-bucket='lab']")))
        assert [b.get_attribute("data-bucket") for b in browser.find_elements(By.CSS_SELECTOR, "#buckets button")] == ["lab"]
        run_query(browser, "select count(*) as n from lab.t")
        assert browser.find_element(By.CSS_SELECTOR, "#result-table td").text == "4"
        # A reload keeps the token (the tab's sessionStorage); a new tab would not.
        browser.refresh()
        wait(browser, shown.element_to_be_clickable((By.CSS_SELECTOR, "button[data-bucket='lab']")))
        assert browser.execute_script("return sessionStorage.length") == 1
        assert browser.execute_script("return localStorage.length") == 0
        screenshot(browser, "08-token-accepted")
    finally:
        d.stop()


def test_the_console_over_https_with_the_daemons_certificate(tmp_path):
    ca, cert, tls = tls_files(tmp_path, "localhost", "127.0.0.1")
    # Chromium trusts exactly this certificate (its public key's hash), not any.
    leaf = x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes())
    spki = leaf.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    d = Daemon(tmp_path / "buckets", extra_args=["--http-port", "0", *tls])
    driver = start_browser(tmp_path, [f"--ignore-certificate-errors-spki-list={pin}"])
    try:
        put(flight.FlightClient(f"grpc+tls://localhost:{d.port}", tls_root_certs=ca.cert_pem.bytes()),
            "readings", sensors(30), bucket="lab")
        assert d.http_url.startswith("https://")
        driver.get(d.http_url + "/")
        wait(driver, shown.element_to_be_clickable((By.CSS_SELECTOR, "button[data-bucket='lab']")))
        assert driver.execute_script("return location.protocol") == "https:"
        run_query(driver, "select count(*) as n from lab.readings")
        assert driver.find_element(By.CSS_SELECTOR, "#result-table td").text == "30"
        screenshot(driver, "09-https")
    finally:
        driver.quit()
        d.stop()
