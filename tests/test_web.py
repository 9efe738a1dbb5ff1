"""Browser tests of the dashboard in headless Chromium (Debian's chromium + chromium-driver, selenium).

The server is the real API app on a temporary SQLite store with the two-county fixture account
(tests/web_server.py). Skipped, with the reason, when Chromium or its driver is not installed:
CI installs them with `apt-get install -y chromium chromium-driver`.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from shapely.geometry import shape  # noqa: E402
from tests.web_server import ServerThread, make_app  # noqa: E402

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver") or next(
    (p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if Path(p).exists()), None
)

NO_BROWSER = (
    "headless browser tests need Debian's chromium and chromium-driver "
    "(apt-get install -y chromium chromium-driver); not installed here"
)

PAGES = ("overview", "map", "ranking", "indicators", "evaluation")
WAIT_S = 30


# ---------------------------------------------------------------------------------- formatting mirror


def format_yuan(value: float | None, lang: str) -> str:
    """The page's formatYuan (static/format.js): scale to 亿元/万元/元 (zh) or billion/million/yuan (en),
    two decimals rounded like Number.toFixed (exact binary value, ties away from zero), thousands
    separators."""
    if value is None:
        return "—"
    a = abs(value)
    if lang == "zh":
        scaled, unit = (value / 1e8, "亿元") if a >= 1e8 else (value / 1e4, "万元") if a >= 1e4 else (value, "元")
    else:
        scaled, unit = (
            (value / 1e9, "billion yuan")
            if a >= 1e9
            else (value / 1e6, "million yuan")
            if a >= 1e6
            else (value, "yuan")
        )
    fixed = Decimal(scaled).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{fixed:,.2f} {unit}"


# ---------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerThread(make_app(tmp_path_factory.mktemp("web"))) as url:
        yield url


def make_driver(webgl: bool = True):
    """Headless Chromium; ``webgl=False`` turns WebGL off so the map falls back to SVG. Skips the test
    when Chromium or chromedriver is missing."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(NO_BROWSER)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    arguments = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
        "--lang=zh-CN",
    ]
    # software WebGL (SwiftShader) for MapLibre; without it the page draws the SVG map
    arguments += ["--enable-unsafe-swiftshader", "--use-angle=swiftshader"] if webgl else ["--disable-3d-apis"]
    for argument in arguments:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(WAIT_S)
    return browser


@pytest.fixture(scope="module")
def driver():
    browser = make_driver()
    yield browser
    browser.quit()


def api(url: str, path: str):
    with urllib.request.urlopen(f"{url}/api/v1{path}", timeout=WAIT_S) as response:
        return json.loads(response.read().decode("utf-8"))


def severe_logs(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def wait_ready(browser, page: str) -> None:
    script = "const d = window.gepDashboard; return Boolean(d && d.ready && d.page === arguments[0]);"
    WebDriverWait(browser, WAIT_S, poll_frequency=0.05).until(lambda b: b.execute_script(script, page))


def open_page(browser, url: str, page: str, lang: str = "zh") -> None:
    """Load ``page`` fresh in ``lang`` (set in localStorage on the same origin first)."""
    browser.get(f"{url}/app.css")
    browser.execute_script("window.localStorage.setItem('gep.lang', arguments[0]);", lang)
    browser.get_log("browser")  # drop earlier entries
    browser.get(f"{url}/?fresh={time.monotonic_ns()}#{page}")
    wait_ready(browser, page)


def text_of(browser, css: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, css).text.strip()


# ------------------------------------------------------------------------------------------- tests


def test_create_app_serves_the_dashboard(tmp_path):
    """The API's app factory mounts the pages itself (gep.web.mount_web), after its routes."""
    from tests.web_server import serves_web

    from gep.api.app import create_app
    from gep.api.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'gep.db'}", data_dir=tmp_path))
    assert serves_web(app), "create_app does not call gep.web.mount_web(app)"
    assert app.routes[-1].name == "web", "mount_web must come after the API routes"


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (0.0, "zh", "0.00 元"),
        (12345.0, "zh", "1.23 万元"),  # 12345 / 1e4 = 1.2345 -> 1.23
        (10285150.45, "zh", "1,028.52 万元"),  # / 1e4 = 1028.515045 -> 1028.52
        (123456789012.0, "zh", "1,234.57 亿元"),  # / 1e8 = 1234.56789012 -> 1234.57
        (-50000.0, "zh", "-5.00 万元"),
        (0.125, "zh", "0.13 元"),  # exact binary tie: toFixed takes the larger n
        (10285150.45, "en", "10.29 million yuan"),  # / 1e6 = 10.28515045 -> 10.29
        (2.5e9, "en", "2.50 billion yuan"),
        (999.0, "en", "999.00 yuan"),
        (None, "en", "—"),
    ],
)
def test_format_yuan_in_the_page_matches_hand_worked_strings(server, driver, value, lang, expected):
    url = server
    if not driver.current_url.startswith(url):
        open_page(driver, url, "overview")
    script = """
        const [value, lang, done] = arguments;
        import('/format.js').then((m) => done(m.formatYuan(value, lang)), (e) => done('ERROR ' + e));
    """
    assert driver.execute_async_script(script, value, lang) == expected
    assert format_yuan(value, lang) == expected  # the mirror used by the panel test below


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_console_errors_and_fetches_nothing_external(server, driver, page):
    url = server
    open_page(driver, url, page)
    assert driver.execute_script("return window.gepDashboard.error") is None
    assert not driver.find_elements(By.CSS_SELECTOR, "#page .error")
    if page == "overview":
        assert text_of(driver, "#kpi-gep .kpi-label") == "生态系统生产总值"
    elif page == "map":
        renderer = driver.execute_script("return window.gepDashboard.map && window.gepDashboard.map.renderer")
        assert renderer in ("maplibre", "svg")
    elif page == "ranking":
        assert driver.find_elements(By.CSS_SELECTOR, "#ranking-table tbody tr")
    elif page == "indicators":
        expected = api(url, "/indicators")
        selector = "#indicator-list .indicator" if expected else "#empty-state"
        assert len(driver.find_elements(By.CSS_SELECTOR, selector)) == (len(expected) or 1)
    elif page == "evaluation":
        expected = api(url, "/evaluations")
        selector = "#evaluation-table tbody tr" if expected else "#empty-state"
        assert len(driver.find_elements(By.CSS_SELECTOR, selector)) == (len(expected) or 1)
    time.sleep(0.5)  # let late errors (workers, images) reach the log
    assert severe_logs(driver) == []
    resources = driver.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    external = [r for r in resources if not r.startswith((url, "data:", "blob:"))]
    assert external == []


def test_language_switch_changes_the_visible_labels(server, driver):
    url = server
    open_page(driver, url, "overview", "zh")
    latest = api(url, "/accounts/latest")
    top = next(r for r in latest["regions"] if r["level"] == "city")
    assert text_of(driver, "#kpi-gep .kpi-label") == "生态系统生产总值"
    assert text_of(driver, "#nav a[data-page=map]") == "地图"
    assert text_of(driver, "#kpi-gep .kpi-value") == format_yuan(top["gep_yuan"], "zh")
    driver.find_element(By.ID, "lang-toggle").click()
    wait_ready(driver, "overview")
    assert text_of(driver, "#kpi-gep .kpi-label") == "Gross Ecosystem Product"
    assert text_of(driver, "#nav a[data-page=map]") == "Map"
    assert text_of(driver, "#app-title") == "Gross Ecosystem Product (GEP) accounting platform"
    assert text_of(driver, "#kpi-gep .kpi-value") == format_yuan(top["gep_yuan"], "en")
    assert driver.execute_script("return document.documentElement.lang") == "en"
    driver.find_element(By.ID, "lang-toggle").click()
    wait_ready(driver, "overview")
    assert text_of(driver, "#kpi-gep .kpi-label") == "生态系统生产总值"
    assert severe_logs(driver) == []


def wait_panel(browser, code: str) -> None:
    script = (
        "const p = document.getElementById('region-panel');"
        "return !p.hidden && p.dataset.code === arguments[0] && p.dataset.state === 'ready';"
    )
    try:
        WebDriverWait(browser, WAIT_S, poll_frequency=0.05).until(lambda b: b.execute_script(script, code))
    except TimeoutException:
        panel = browser.execute_script(
            "const p = document.getElementById('region-panel'); return [p.hidden, p.dataset.code, p.dataset.state];"
        )
        raise AssertionError(f"the panel of {code} did not open; panel (hidden, code, state) = {panel}") from None


def click_county(browser, feature) -> None:
    """Click the map at a point inside ``feature`` (its representative point, projected by the page)."""
    container = browser.find_element(By.ID, "map")
    size = container.size
    inside = shape(feature["geometry"]).representative_point()
    project = "return window.gepDashboard.map.project(arguments[0], arguments[1]);"
    at = browser.execute_script(project, inside.x, inside.y)
    dx, dy = at["x"] - size["width"] / 2, at["y"] - size["height"] / 2  # offsets from the element's centre
    ActionChains(browser).move_to_element_with_offset(container, round(dx), round(dy)).click().perform()


def check_map_clicks(browser, url: str) -> str:
    """Click each county, compare its panel with the API; returns the map renderer."""
    open_page(browser, url, "map")
    renderer = browser.execute_script("return window.gepDashboard.map.renderer;")
    account_id = api(url, "/accounts/latest")["id"]
    counties = [f for f in api(url, "/regions.geojson")["features"] if f["properties"]["level"] == "county"]
    assert len(counties) == 2
    for feature in counties:
        code = feature["properties"]["code"]
        click_county(browser, feature)
        wait_panel(browser, code)
        expected = api(url, f"/accounts/{account_id}/regions/{code}")
        assert text_of(browser, "#panel-title") == expected["region_name"]
        assert text_of(browser, "#panel-gep") == format_yuan(expected["gep_yuan"], "zh")
        assert text_of(browser, "#panel-regulating") == format_yuan(expected["regulating_yuan"], "zh")
        rows = browser.find_elements(By.CSS_SELECTOR, "#panel-items tbody tr")
        assert sorted(r.get_attribute("data-item") for r in rows) == sorted(i["item"] for i in expected["items"])
        browser.find_element(By.ID, "panel-close").click()
    # the open panel follows a language switch
    feature = counties[0]
    click_county(browser, feature)
    wait_panel(browser, feature["properties"]["code"])
    browser.find_element(By.ID, "lang-toggle").click()
    wait_ready(browser, "map")
    expected = api(url, f"/accounts/{account_id}/regions/{feature['properties']['code']}")
    assert text_of(browser, "#panel-gep") == format_yuan(expected["gep_yuan"], "en")
    assert severe_logs(browser) == []
    return renderer


def test_clicking_a_county_on_the_map_shows_the_api_figures(server, driver):
    url = server
    renderer = check_map_clicks(driver, url)
    assert renderer in ("maplibre", "svg")  # MapLibre when SwiftShader gives WebGL, else the SVG fallback


def test_without_webgl_the_svg_map_is_clickable_too(server):
    url = server
    browser = make_driver(webgl=False)
    try:
        assert check_map_clicks(browser, url) == "svg"
    finally:
        browser.quit()


def test_map_layers_load_as_overlays(server, driver):
    url = server
    open_page(driver, url, "map")
    account_id = api(url, "/accounts/latest")["id"]
    layers = [m for m in api(url, f"/accounts/{account_id}/maps") if m["kind"] == "value" or m["item"] == "gep_density"]
    options = driver.find_elements(By.CSS_SELECTOR, "#layer-select option")
    assert len(options) == len(layers) + 1  # + "boundaries only"
    state = "return window.gepDashboard.map.overlayState;"
    for index in (1, len(options) - 1):
        driver.execute_script(
            "const s = document.getElementById('layer-select'); s.selectedIndex = arguments[0];"
            "s.dispatchEvent(new Event('change'));",
            index,
        )
        wait = WebDriverWait(driver, WAIT_S, poll_frequency=0.05)
        wait.until(lambda b: b.execute_script(state) in ("loaded", "error"))
        assert driver.execute_script(state) == "loaded"
    assert severe_logs(driver) == []


def test_ranking_orders_counties_by_gep_and_opens_their_panel(server, driver):
    url = server
    open_page(driver, url, "ranking")
    latest = api(url, "/accounts/latest")
    counties = sorted((r for r in latest["regions"] if r["level"] == "county"), key=lambda r: -r["gep_yuan"])
    rows = driver.find_elements(By.CSS_SELECTOR, "#ranking-table tbody tr")
    assert [r.get_attribute("data-code") for r in rows] == [r["region_code"] for r in counties]
    first = counties[0]
    assert rows[0].find_elements(By.CSS_SELECTOR, "td")[2].text == format_yuan(first["gep_yuan"], "zh")
    rows[0].find_element(By.CSS_SELECTOR, "button.link").click()
    wait_panel(driver, first["region_code"])
    expected = api(url, f"/accounts/{latest['id']}/regions/{first['region_code']}")
    assert text_of(driver, "#panel-gep") == format_yuan(expected["gep_yuan"], "zh")
    assert severe_logs(driver) == []


def post(url: str, path: str, body: dict) -> dict:
    from gep.api.settings import DEFAULT_ADMIN_TOKEN

    request = urllib.request.Request(
        f"{url}/api/v1{path}",
        data=json.dumps(body).encode("utf-8"),
        headers={"content-type": "application/json", "authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=WAIT_S) as response:
        return json.loads(response.read().decode("utf-8"))


def test_indicators_and_evaluations_with_data(server, driver):
    """Runs last: adds two indicator series and two evaluations through the API, then reads the pages."""
    url = server
    observed = [{"kind": "observed", "year": y, "value": v} for y, v in ((2019, 0.25), (2020, 0.27))]
    forecast = [
        {"kind": "forecast", "year": y, "value": 0.27 + 0.01 * (y - 2020), "lower": 0.2, "upper": 0.4}
        for y in (2021, 2025)
    ]
    target = [{"kind": "target", "year": 2025, "value": 0.35}]
    gep = {"code": "gep_yuan", "region_code": "C", "name_zh": "生态系统生产总值", "name_en": "GEP", "unit": "亿元"}
    post(url, "/indicators", gep | {"values": observed + forecast + target})
    forest = {"code": "forest_cover", "region_code": "A", "name_zh": "森林覆盖率", "name_en": "Forest cover"}
    forest["unit"] = "%"
    post(url, "/indicators", forest | {"values": [{"year": 2020, "value": 81.7}]})
    for code, score, grade, ecology in (("A", 80.0, "良好", 40.5), ("B", 92.5, "优秀", 45.0)):
        evaluation = {"region_code": code, "year": 2020, "method": "test", "score": score, "grade": grade}
        post(url, "/evaluations", evaluation | {"details": {"ecology": ecology}})

    open_page(driver, url, "indicators")
    cards = driver.find_elements(By.CSS_SELECTOR, "#indicator-list .indicator")
    assert len(cards) == 2
    assert "2025: 0.35 亿元" in driver.find_element(By.ID, "indicator-list").text
    driver.find_element(By.ID, "lang-toggle").click()
    wait_ready(driver, "indicators")
    assert "Forest cover" in driver.find_element(By.ID, "indicator-list").text
    assert severe_logs(driver) == []

    open_page(driver, url, "evaluation")
    rows = driver.find_elements(By.CSS_SELECTOR, "#evaluation-table tbody tr")
    assert [r.get_attribute("data-code") for r in rows] == ["B", "A"]  # 92.5 > 80
    cells = [c.text for c in rows[0].find_elements(By.CSS_SELECTOR, "td")]
    assert cells == ["1", "乙县", "92.50", "优秀", "test", "45.00"]  # rank, region, score, grade, method, ecology
    assert severe_logs(driver) == []
