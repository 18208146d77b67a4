"""Screenshots of the chat page for docs/serve.md, from a real headless Chromium against a
real `pocketchat serve` with the stand-in behind it:

    .venv/bin/python -m tests.page_screenshots      # writes docs/img/page-{desktop,phone}.png
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser import DESKTOP, PHONE, chromium, wait
from tests.serve_proc import ROOT, serving
from tests.standin import StandIn, replies
from tests.standin.models import default_models

OUT = ROOT / "docs" / "img"
ANSWER = """Here is a small function that counts words:

```python
def count_words(text: str) -> int:
    return len(text.split())
```

- `text.split()` splits on any run of whitespace
- an empty string gives **0**

Raw HTML such as <img src=x onerror=alert(1)> is shown as text."""


def converse(driver: WebDriver, url: str, standin: StandIn) -> None:
    driver.get(f"{url}/")
    for text, reply in (("How do I count words in Python?", ANSWER),):
        standin.reply = replies.fixed(reply)
        driver.find_element(By.ID, "box").send_keys(text, Keys.ENTER)
        wait(driver, lambda d: d.execute_script(
            "const m = [...document.querySelectorAll('#log .msg.assistant')].pop();"
            "return m && m.dataset.done"))  # fmt: skip
    standin.reply = replies.fixed(replies.prose_text(80))
    standin.tokens_per_second = 20
    driver.find_element(By.ID, "box").send_keys("And a longer answer, please?", Keys.ENTER)
    wait(driver, lambda d: d.execute_script(
        "const m = document.querySelector('.msg.streaming .md');"
        "return m && m.innerText.split(/\\s+/).length > 12"))  # fmt: skip


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    standin = StandIn(default_models())
    standin.start()
    try:
        with tempfile.TemporaryDirectory() as tmp, serving(Path(tmp) / "d", standin.url) as srv:
            for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
                standin.tokens_per_second = None
                driver = chromium(size)
                try:
                    converse(driver, srv.url, standin)
                    driver.save_screenshot(str(OUT / f"page-{name}.png"))
                    print(OUT / f"page-{name}.png")
                finally:
                    driver.quit()
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
