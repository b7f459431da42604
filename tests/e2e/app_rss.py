"""Peak memory of the running app with the chat and the hotkey both used.

Not a test: a measurement for docs/performance.md. Starts the app under
Xvfb through WebDriver, has a chat reply written, rewrites the clipboard
with the hotkey while it is written, waits for both, and prints the app's
peak resident memory (VmHWM) as JSON.

    PITH_DESKTOP_BIN=target/debug/pith-desktop python3 -m tests.e2e.app_rss
"""
import json
import os
import tempfile

from tests.e2e.desktop import Driver, Screen, app_binary, clipboard, press, wait_for


def app_pids(binary):
    real = os.path.realpath(binary)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.path.realpath(f"/proc/{pid}/exe") == real:
                yield int(pid)
        except OSError:
            continue


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def main():
    screen = Screen()
    data = tempfile.mkdtemp(prefix="pith-rss-")
    driver = Driver(screen, {"PITH_DATA_DIR": data})
    try:
        wait_for(lambda: driver.text(".pill-ready"), 120, "the model to load")
        pids = list(app_pids(app_binary()))
        main_window = driver.call("GET", driver.s("/window"))
        driver.type("textarea", "Write a long story about a lighthouse keeper.\ue007")
        streaming = '.msg-assistant[data-status="streaming"] .msg-text'
        wait_for(lambda: len(driver.text(streaming) or "") > 10, 120, "the reply to start")
        clipboard(screen, "me and him goes to the park every sunday.")
        press(screen, "ctrl+alt+r")
        driver.switch_to("Pith — Rephrase")
        wait_for(lambda: driver.script("return document.querySelector('.popup-result').dataset.text || null"),
                 120, "the rewrite")
        driver.call("POST", driver.s("/window"), {"handle": main_window})
        wait_for(lambda: driver.find('.msg-assistant[data-status="complete"]'), 300, "the chat reply")
        print(json.dumps({
            "binary": app_binary(),
            "peak_rss_mb": round(status_kb(pids[0], "VmHWM") / 1024, 1),
            "rss_mb": round(status_kb(pids[0], "VmRSS") / 1024, 1),
        }))
    finally:
        driver.close()
        screen.close()


if __name__ == "__main__":
    main()
