"""A real headless Chromium (Debian's `chromium` + `chromium-driver`) driven by Selenium, for
the chat page's tests. `make test` installs both with apt-get when `chromium` is missing."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

DRIVER = "/usr/bin/chromedriver"
DESKTOP = (1280, 800)
PHONE = (390, 844)


def chromium(size: tuple[int, int] = DESKTOP) -> WebDriver:
    """A headless Chromium window of `size` (CSS pixels); quit it when done."""
    binary = shutil.which("chromium")
    if binary is None or not Path(DRIVER).exists():
        pytest.fail("chromium and chromium-driver are needed (`make test` installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={size[0]},{size[1]}", "--force-device-scale-factor=1",
                "--no-first-run", "--disable-extensions"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    if size[0] < 500:  # narrower than a desktop window can be: emulate the phone's viewport
        metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": True}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver, what: Callable[[WebDriver], Any], seconds: float = 15) -> Any:
    """Poll `what` until it returns something truthy (its value), else fail with a timeout."""
    return WebDriverWait(driver, seconds, poll_frequency=0.02).until(what)


def alert_shown(driver: WebDriver) -> bool:
    try:
        driver.switch_to.alert.dismiss()
    except NoAlertPresentException:
        return False
    return True
