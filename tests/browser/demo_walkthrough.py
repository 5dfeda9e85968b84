"""The newcomer's walkthrough of issue 14, in Debian's Chromium driven by Playwright.

Runs `ordo demo` in a scratch copy of the repo's configuration, reads from its output the
`--config FILE` that opens the demo's store and the demo users, starts `ordo run` on that
store (as the demo tells a newcomer to), signs in as the printed users and checks that every
console page is filled with the demo's data: the inbox holds the reviews the demo left open
with the rule's reason, orders, an order's timeline and invoice, customers and a customer's
open items, the finance exceptions queue with scored candidates, statements and aging, the
workflow graphs with live counts, the dashboard's charts and the forecast. The manager then
approves one review from a 390 px wide screen and the order moves on. Fails on any console
error or failed request; screenshots go to target/browser/demo-*.png.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from playwright.sync_api import sync_playwright

from console_test import A11Y_JS, CHROMIUM, ORDO, REPO, SHOTS, free_port, wait


def run_demo(work):
    for sub in ["config", "workflows", "rules"]:
        shutil.copytree(os.path.join(REPO, sub), os.path.join(work, sub))
    r = subprocess.run([ORDO, "demo"], cwd=work, capture_output=True, text=True,
                       env={**os.environ, "NO_COLOR": "1", "RUST_LOG": "warn"})
    assert r.returncode == 0, f"ordo demo failed:\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}"
    out = r.stdout
    config = re.search(r"ordo --config (\S+) COMMAND", out)
    assert config, "the demo does not print the --config FILE that opens its store:\n" + out[-2000:]
    users = re.findall(r"(\w+) \(([\w-]+)\)", out.split("sign in as", 1)[-1].splitlines()[0])
    password = re.search(r"password is (\S+?)NAME", out)
    assert users and password, "the demo does not print its users and their passwords"
    return config.group(1), {name: password.group(1) + name for name, _ in users}


class Console:
    def __init__(self, pw, base, width, user, password):
        self.browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        self.ctx = self.browser.new_context(viewport={"width": width, "height": 900}, base_url=base)
        self.problems = []
        self.width = width
        self.page = self.ctx.new_page()
        p = self.page
        p.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        p.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        p.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url}"))
        p.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        p.goto("/login")
        p.get_by_label("User name").fill(user)
        p.get_by_label("Password").fill(password)
        p.get_by_role("button", name="Sign in").click()
        p.wait_for_url("**/inbox")

    def open(self, path, name, *wanted):
        self.page.goto(path)
        body = self.page.inner_text("main")
        for w in wanted:
            assert w in body, f"{path} at {self.width} px does not show {w!r}:\n{body[:1500]}"
        # usable on a phone: nothing widens the page past the screen (no sideways scrolling)
        wide = self.page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert wide[0] <= wide[1] + 1, f"{path} at {self.width} px is {wide[0]} px wide"
        problems = self.page.evaluate(A11Y_JS)
        assert not problems, f"{path}: " + "\n".join(problems[:10])
        os.makedirs(SHOTS, exist_ok=True)
        self.page.screenshot(path=os.path.join(SHOTS, f"demo-{name}-{self.width}.png"), full_page=True)
        return body

    def close(self):
        self.browser.close()
        assert not self.problems, "\n".join(self.problems)


def manager_pages(c):
    inbox = c.open("/inbox", "inbox", "C009-OPEN-1", "C010-OPEN-2", "C011-OPEN-3",
                   "exceeds the available credit")
    assert inbox.count("Approve") >= 3, inbox[:1500]
    c.open("/orders", "orders", "C001-PO", "Next page")
    # an order that shipped and was invoiced: its timeline, shipment and invoice
    c.page.get_by_role("link", name=re.compile(r"^C00[1-4]-PO\d+$")).first.click()
    c.page.wait_for_load_state()
    body = c.page.inner_text("main")
    for w in ["ship", "INV-", "step.completed"]:
        assert w in body, f"order page does not show {w!r}:\n{body[:1500]}"
    c.open("/customers", "customers", "C007", "C009")
    c.open("/customers/C007", "customer", "INV-", "in_collection")
    c.open("/workflows", "workflows", "order-to-cash", "bank-reconciliation")
    assert c.page.locator("svg").count() >= 1, "no workflow graph drawn"
    c.open("/dashboard", "dashboard", "Orders", "cycle")
    assert c.page.locator("svg").count() >= 2, "the dashboard draws fewer than two charts"
    c.open("/forecast", "forecast", "WID-100", "GAD-200")
    # the trading partner the demo exchanged X12 with: its 850 received, invoice and credit memo sent
    c.open("/partners", "partners", "demo-x12")
    c.open("/partners/demo-x12", "partner", "850 0001 accepted", "invoice", "credit_note")


def approve_from_phone(c):
    c.page.goto("/inbox")
    row = c.page.locator("tr", has_text="C009-OPEN-1")
    row.get_by_label("Note").fill("walkthrough: approved from a phone")
    row.get_by_role("button", name="Approve").click()
    c.page.wait_for_url("**/inbox?done=*")
    body = c.page.inner_text("main")
    assert "approved (order C009-OPEN-1)" in body and "C010-OPEN-2" in body, body[:1000]
    assert c.page.locator("tr", has_text="C009-OPEN-1").count() == 0, body[:1000]
    c.page.goto("/orders/C009-OPEN-1")
    body = c.page.inner_text("main")
    assert "walkthrough: approved from a phone" in body or "approved" in body, body[:1500]


def finance_pages(c):
    body = c.open("/finance", "finance", "Payment on account", "DEMO-", "Receivables aging")
    assert "No open exceptions" not in body, body[:1500]


def main():
    work = tempfile.mkdtemp(prefix="ordo-walkthrough-")
    run = None
    try:
        config, users = run_demo(work)
        assert {"manager", "finance", "viewer"} <= set(users), users
        port = free_port()
        log = open(os.path.join(work, "run.log"), "w")
        run = subprocess.Popen([ORDO, "--config", config, "run", "--listen", f"127.0.0.1:{port}"],
                               cwd=work, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        def up():
            try:
                return urllib.request.urlopen(base + "/healthz", timeout=2).status == 200
            except OSError:
                return False

        wait(30, "ordo run on the demo's store answers", up)
        with sync_playwright() as pw:
            for width in (1280, 390):
                c = Console(pw, base, width, "manager", users["manager"])
                try:
                    manager_pages(c)
                    if width == 390:
                        approve_from_phone(c)
                finally:
                    c.close()
                c = Console(pw, base, width, "finance", users["finance"])
                try:
                    finance_pages(c)
                finally:
                    c.close()
    except AssertionError as e:
        print("FAILED: demo walkthrough:\n" + str(e))
        print("kept at " + work)
        sys.exit(1)
    finally:
        if run:
            run.terminate()
            t0 = time.time()
            try:
                run.wait(60)
            except subprocess.TimeoutExpired:
                run.kill()
            print(f"ordo run stopped {time.time() - t0:.1f} s after SIGTERM, exit {run.returncode}")
    if run and run.returncode != 0:
        print(f"FAILED: ordo run on the demo's store exited {run.returncode} on SIGTERM; kept at {work}")
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("demo walkthrough passed; screenshots in " + SHOTS)


if __name__ == "__main__":
    main()
