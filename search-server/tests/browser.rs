//! The web UI in a real browser: headless Chromium driven over WebDriver by
//! chromedriver, against the server running in-process on the fixture
//! archive. Needs Debian's `chromium` and `chromium-driver` (paths can be
//! overridden with CHROME and CHROMEDRIVER); without them the test fails.
//! Screenshots are saved as target/browser-test.png and
//! target/browser-reading.png.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// A chromedriver process, ended when the test ends however it ends.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.exists(),
        "{} not found: the browser test needs headless Chromium and its driver. Install them with \
         `apt-get install -y chromium chromium-driver` (or set {variable} to the binary)",
        path.display()
    );
    path
}

fn start_driver() -> Driver {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(binary("CHROMEDRIVER", "/usr/bin/chromedriver"))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start listening on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    driver
}

async fn open_browser(driver: &Driver, profile: &Path, (width, height): (u32, u32), javascript: bool) -> Client {
    let chrome = binary("CHROME", "/usr/bin/chromium");
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--lang=zh-CN",
    ];
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push(format!("--window-size={width},{height}"));
    let mut capabilities = serde_json::Map::new();
    // 2: blocked, as in a browser with JavaScript turned off.
    let prefs = json!({ "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 } });
    let mut options = json!({ "binary": chrome, "args": args, "prefs": prefs });
    if width < height {
        // A touch screen held upright (the terminal, a phone): emulated, as
        // a desktop window cannot be made as narrow as a phone.
        options["mobileEmulation"] = json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0, "touch": true } });
    }
    capabilities.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("open a WebDriver session in headless Chromium")
}

/// Poll `script` (a JS expression) until it is true.
async fn wait_until(browser: &Client, script: &str, what: &str) {
    wait_until_within(browser, script, what, Duration::from_secs(10)).await
}

async fn wait_until_within(browser: &Client, script: &str, what: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let value = browser.execute(&format!("return Boolean({script});"), vec![]).await.unwrap();
        if value == Value::Bool(true) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what} ({script})");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn eval(browser: &Client, script: &str) -> Value {
    browser.execute(&format!("return {script};"), vec![]).await.unwrap()
}

async fn find(browser: &Client, css: &str) -> Element {
    browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"))
}

async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join(name);
    std::fs::write(&target, png).unwrap();
}

async fn type_query(browser: &Client, text: &str) {
    let input = find(browser, "#q").await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
    input.send_keys(&Key::Enter.to_string()).await.unwrap();
}

/// A PC screen, the portrait touch screen of a terminal, a phone.
const PC: (u32, u32) = (1280, 1000);
const TERMINAL: (u32, u32) = (1080, 1920);
const PHONE: (u32, u32) = (390, 844);

/// Run `steps` in a fresh headless Chromium of `window` size against a
/// server on `data`, as a task so that a failed step still closes the browser.
async fn in_browser<F, Fut>(name: &str, data: &Path, window: (u32, u32), steps: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    in_a_browser(name, data, window, true, steps).await
}

async fn in_a_browser<F, Fut>(name: &str, data: &Path, window: (u32, u32), javascript: bool, steps: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let base = format!("http://{}", serve(data, config()));
    let driver = start_driver();
    let browser = open_browser(&driver, &scratch(&format!("{name}-profile")), window, javascript).await;
    let outcome = tokio::spawn(steps(browser.clone(), base)).await;
    browser.close().await.unwrap();
    if let Err(failed) = outcome {
        std::panic::resume_unwind(failed.into_panic());
    }
}

/// The sample corpus (`corpus/`) ingested into a fresh data folder.
fn sample_archive(name: &str) -> PathBuf {
    let data = scratch(name).join("data");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let summary = ingest(&corpus, &data);
    assert!(summary.added > 40, "the sample corpus is missing: {}", corpus.display());
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_searches_filters_reads_and_the_kiosk_resets() {
    let (_, data) = fixture_archive("browser");
    in_browser("browser", &data, PC, |browser, base| async move { journey(&browser, base).await }).await;
}

async fn journey(browser: &Client, base: String) {
    // Search by typing Chinese and pressing Enter.
    browser.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(eval(browser, "document.getElementById('start').hidden").await, json!(false), "start screen shown");
    // Typing shows suggestions; an Enter that confirms an input-method
    // candidate is swallowed; a real Enter searches.
    find(browser, "#q").await.send_keys("低保").await.unwrap();
    wait_until(browser, "!document.getElementById('suggestions').hidden", "suggestions").await;
    let suggestion = eval(browser, "document.querySelector('#suggestions [role=option]').textContent").await;
    assert!(suggestion.as_str().is_some_and(|s| s.contains("低保")), "suggestion: {suggestion}");
    let composing_enter = "document.getElementById('q').dispatchEvent(new KeyboardEvent('keydown', \
        {key: 'Enter', isComposing: true, bubbles: true, cancelable: true}))";
    assert_eq!(eval(browser, composing_enter).await, json!(false), "Enter while composing is cancelled");
    assert_eq!(eval(browser, "document.getElementById('results-area').hidden").await, json!(true), "no search yet");
    type_query(browser, "低保").await;
    wait_until(browser, "document.querySelectorAll('#results .result').length >= 2", "two results").await;
    let status = find(browser, "#status").await.text().await.unwrap();
    assert!(status.contains("找到 2 份文件"), "status: {status}");
    assert_eq!(eval(browser, "document.querySelector('#results .snippet mark').textContent").await, json!("低保"));
    assert!(browser.current_url().await.unwrap().as_str().contains("q=%E4%BD%8E%E4%BF%9D"), "query in the URL");
    assert_eq!(
        eval(browser, "document.querySelector('#results .result-title').textContent").await,
        json!("关于调整2022年城乡低保标准的通知")
    );

    // Apply a filter chip.
    find(browser, "#filters .chip[data-filter=category][data-value='社会救助']").await.click().await.unwrap();
    wait_until(browser, "document.querySelectorAll('#results .result').length === 1", "one filtered result").await;
    wait_until(browser, "location.search.includes('category=')", "filter in the URL").await;
    assert_eq!(
        eval(browser, "document.querySelector(\"#filters .chip[data-value='社会救助']\").getAttribute('aria-pressed')").await,
        json!("true")
    );
    screenshot(browser, "browser-test.png").await;

    // A shared link restores the same list.
    let shared = browser.current_url().await.unwrap();
    browser.goto(shared.as_str()).await.unwrap();
    wait_until(browser, "document.querySelectorAll('#results .result').length === 1", "restored from the URL").await;
    assert_eq!(eval(browser, "document.getElementById('q').value").await, json!("低保"));

    // Open the result: the reading view highlights and jumps between matches.
    find(browser, "#results .result-title").await.click().await.unwrap();
    wait_until(browser, "location.pathname.startsWith('/documents/')", "the reading view").await;
    let marks = eval(browser, "Array.from(document.querySelectorAll('#text mark')).map(m => m.textContent)").await;
    assert!(marks.as_array().is_some_and(|m| m.contains(&json!("低保"))), "marks: {marks}");
    find(browser, "#next-match").await.click().await.unwrap();
    wait_until(browser, "document.querySelector('#text mark.current') !== null", "the current match").await;
    assert!(eval(browser, "document.querySelector('.qr-code') !== null").await == json!(true), "QR code");

    // The larger-text toggle persists across pages.
    find(browser, "#text-size").await.click().await.unwrap();
    wait_until(browser, "document.documentElement.classList.contains('large')", "large text").await;
    screenshot(browser, "browser-reading.png").await;
    browser.back().await.unwrap();
    wait_until(browser, "location.pathname === '/' && document.querySelectorAll('#results .result').length === 1", "back to the list")
        .await;
    assert_eq!(eval(browser, "document.documentElement.classList.contains('large')").await, json!(true));
    // A second step up, and a third back to normal.
    find(browser, "#text-size").await.click().await.unwrap();
    assert_eq!(eval(browser, "document.documentElement.className").await, json!("larger"));
    assert_eq!(find(browser, "#text-size").await.text().await.unwrap(), "正常字");
    find(browser, "#text-size").await.click().await.unwrap();
    assert_eq!(eval(browser, "document.documentElement.className").await, json!(""));

    // A slip of the input method gets one correction, a tap away.
    browser.goto(&format!("{base}/")).await.unwrap();
    type_query(browser, "征地补尝").await;
    wait_until(browser, "!document.getElementById('did-you-mean').hidden", "did you mean").await;
    assert_eq!(eval(browser, "document.getElementById('did-you-mean-link').textContent").await, json!("征地补偿"));
    find(browser, "#did-you-mean-link").await.click().await.unwrap();
    wait_until(
        browser,
        "document.getElementById('q').value === '征地补偿' && document.querySelectorAll('#results .result').length === 1",
        "the corrected search",
    )
    .await;
    assert_eq!(eval(browser, "document.getElementById('did-you-mean').hidden").await, json!(true));

    // A title suggestion opens its document.
    browser.goto(&format!("{base}/")).await.unwrap();
    find(browser, "#q").await.send_keys("征地补偿").await.unwrap();
    wait_until(browser, "document.querySelector('#suggestions .suggestion.title') !== null", "a title suggestion").await;
    find(browser, "#suggestions .suggestion.title").await.click().await.unwrap();
    wait_until(browser, "location.pathname === '/documents/zhengdi-2022'", "the suggested document").await;

    // Kiosk mode: idle for two seconds returns to a clean start screen.
    browser.goto(&format!("{base}/?kiosk=1&idle=2")).await.unwrap();
    type_query(browser, "征地").await;
    wait_until(browser, "document.querySelectorAll('#results .result').length === 1", "a kiosk search").await;
    let before = Instant::now();
    wait_until(
        browser,
        "location.search === '?kiosk=1&idle=2' && document.getElementById('q').value === '' \
         && document.getElementById('results-area').hidden && !document.getElementById('start').hidden",
        "the kiosk reset",
    )
    .await;
    assert!(before.elapsed() >= Duration::from_millis(1500), "reset too early: {:?}", before.elapsed());
}

/// Journey 6: a Markdown budget reads as a document on a phone: headings,
/// a list and the table, no markup in the text or in the snippet, the raw
/// `<script>` of the source shown as text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_markdown_budget_table_reads_on_a_phone() {
    let (_, data) = fixture_archive("browser-markdown");
    in_browser("browser-markdown", &data, PHONE, |browser, base| async move {
        let browser = &browser;
        browser.goto(&format!("{base}/")).await.unwrap();
        type_query(browser, "学生资助").await;
        wait_until(browser, "document.querySelectorAll('#results .result').length === 1", "the budget found").await;
        let snippet = find(browser, "#results .snippet").await.text().await.unwrap();
        assert!(snippet.contains("学生资助"), "snippet: {snippet}");
        for markup in ["#", "**", "|"] {
            assert!(!snippet.contains(markup), "{markup} in the snippet: {snippet}");
        }
        // The source's raw HTML is text there, as in the reading view.
        assert_eq!(eval(browser, "document.querySelectorAll('#results .snippet *:not(mark)').length").await, json!(0));
        find(browser, "#results .result-title").await.click().await.unwrap();
        wait_until(browser, "location.pathname === '/documents/budget-2023'", "the reading view").await;
        assert_eq!(eval(browser, "document.querySelector('h1').textContent").await, json!("临河区教育局2023年部门预算"));
        assert_eq!(
            eval(browser, "Array.from(document.querySelectorAll('#text h2, #text h3')).map(h => h.textContent)").await,
            json!(["临河区教育局2023年部门预算", "一、收支总体情况", "二、说明"])
        );
        let rows = "Array.from(document.querySelectorAll('#text table tr')).map(r => \
                    Array.from(r.cells).map(c => c.textContent).join(' / '))";
        assert_eq!(
            eval(browser, rows).await,
            json!(["项目 / 金额（万元）", "一般公共预算拨款 / 3,560.00", "学生资助 / 420.50", "合计 / 3,980.50"])
        );
        assert_eq!(eval(browser, "document.querySelectorAll('#text li').length").await, json!(2));
        let text = find(browser, "#text").await.text().await.unwrap();
        assert!(text.contains("<script>alert(3)</script>"), "the source's raw HTML is shown as text: {text}");
        assert_eq!(eval(browser, "document.querySelectorAll('#text script, #text b').length").await, json!(0));
        for markup in ["| ---", "**", "## "] {
            assert!(!text.contains(markup), "{markup} shown raw: {text}");
        }
        assert_eq!(eval(browser, "document.querySelector('#text mark').textContent").await, json!("学生资助"));
        // The page never scrolls sideways; the table fits the phone's width.
        assert_eq!(eval(browser, "document.documentElement.scrollWidth <= window.innerWidth").await, json!(true));
        assert_eq!(
            eval(browser, "document.querySelector('#text table').getBoundingClientRect().right <= window.innerWidth").await,
            json!(true)
        );
        // Only a compact 下一处 stays pinned while reading.
        assert_eq!(eval(browser, "getComputedStyle(document.querySelector('.tools')).position").await, json!("static"));
        let pinned = eval(
            browser,
            "(r => r.width * r.height / (innerWidth * innerHeight))(document.getElementById('next-match').getBoundingClientRect())",
        )
        .await;
        assert!(pinned.as_f64().unwrap() < 0.03, "下一处 covers {pinned} of the screen");
        screenshot(browser, "browser-phone-reading.png").await;
        eval(browser, "(document.querySelector('#text h3').scrollIntoView(), 0)").await;
        screenshot(browser, "browser-phone-table.png").await;
    })
    .await;
}

/// Journey 1: 返回搜索 returns to the same list, page, filters, order and
/// scroll, without adding a history entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_the_list_keeps_the_readers_place() {
    let data = sample_archive("browser-back");
    in_browser("browser-back", &data, PC, |browser, base| async move {
        let browser = &browser;
        let list = format!("{base}/?q={}&disclosure=public&sort=date_desc&offset=10", enc("临河区"));
        browser.goto(&list).await.unwrap();
        wait_until(browser, "document.querySelectorAll('#results .result').length === 10", "page 2").await;
        let page = find(browser, "#pager .page-of").await.text().await.unwrap();
        assert!(page.starts_with("第 2 页"), "{page}");
        let titles = "Array.from(document.querySelectorAll('#results .result-title')).map(a => a.textContent)";
        let shown = eval(browser, titles).await;
        let before = eval(browser, "[location.pathname + location.search]").await;
        // Scroll down to the last result and open it.
        eval(browser, "(document.querySelector('#results .result:last-child').scrollIntoView({block: 'center'}), 0)").await;
        let y = eval(browser, "Math.round(window.scrollY)").await.as_i64().unwrap();
        assert!(y > 200, "scrolled: {y}");
        find(browser, "#results .result:last-child .result-title").await.click().await.unwrap();
        wait_until(browser, "location.pathname.startsWith('/documents/')", "the reading view").await;
        let entries = eval(browser, "history.length").await;
        let back_href = eval(browser, "document.getElementById('back').getAttribute('href')").await;
        assert_eq!(back_href, json!(before[0].as_str().unwrap()), "the link keeps the list");
        find(browser, "#back").await.click().await.unwrap();
        wait_until(browser, "location.pathname === '/' && document.querySelectorAll('#results .result').length === 10", "the list").await;
        wait_until(browser, &format!("Math.abs(window.scrollY - {y}) < 5"), "the scroll position").await;
        assert_eq!(eval(browser, "location.pathname + location.search").await, before[0], "the same list");
        assert_eq!(eval(browser, "history.length").await, entries, "went back: no new history entry");
        assert_eq!(eval(browser, titles).await, shown, "the same page of the same list");
        assert_eq!(eval(browser, "document.getElementById('sort').value").await, json!("date_desc"));
        assert_eq!(
            eval(browser, "document.querySelector(\"#filters .chip[data-value='public']\").getAttribute('aria-pressed')").await,
            json!("true")
        );
        // Without the previous entry (a link opened afresh), the link still
        // leads to the same list.
        let doc = eval(browser, "document.querySelector('#results .result:last-child .result-title').href").await;
        browser.goto(doc.as_str().unwrap()).await.unwrap();
        eval(browser, "(sessionStorage.clear(), 0)").await;
        find(browser, "#back").await.click().await.unwrap();
        wait_until(browser, "document.querySelectorAll('#results .result').length === 10", "the list again").await;
        assert_eq!(eval(browser, titles).await, shown);
    })
    .await;
}

/// Journeys 2 and 3: an idle terminal first asks, in the page, whether the
/// reader is still there (longer while reading a document); then it returns
/// to its start screen leaving nothing of the previous person: no history
/// to go Back into, the text size back to the terminal's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_asks_before_it_resets_and_forgets_the_person() {
    let (_, data) = fixture_archive("browser-kiosk");
    in_browser("browser-kiosk", &data, TERMINAL, |browser, base| async move {
        let browser = &browser;
        browser.goto(&format!("{base}/?kiosk=1&idle=4")).await.unwrap();
        assert_eq!(eval(browser, "document.documentElement.className").await, json!("large kiosk"), "large type by default");
        let entries = eval(browser, "history.length").await;
        type_query(browser, "低保").await;
        wait_until(browser, "document.querySelectorAll('#results .result').length === 2", "a kiosk search").await;
        find(browser, "#text-size").await.click().await.unwrap();
        assert_eq!(eval(browser, "document.documentElement.classList.contains('larger')").await, json!(true));
        // The notice, half the limit before the reset (20 s with the real limit).
        let asked = Instant::now();
        wait_until(browser, "document.getElementById('idle-notice') && !document.getElementById('idle-notice').hidden", "the notice").await;
        assert!(asked.elapsed() >= Duration::from_millis(1500), "asked too early: {:?}", asked.elapsed());
        assert_eq!(eval(browser, "document.getElementById('idle-title').textContent").await, json!("还要继续阅读吗？"));
        assert_eq!(eval(browser, "document.activeElement.id").await, json!("idle-continue"));
        let height = eval(browser, "document.getElementById('idle-continue').getBoundingClientRect().height").await;
        assert!(height.as_f64().unwrap() >= 48.0, "继续 is {height} px high");
        find(browser, "#idle-continue").await.click().await.unwrap();
        assert_eq!(eval(browser, "document.getElementById('idle-notice').hidden").await, json!(true));
        // 继续 gave the reader the full time again.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(eval(browser, "location.search.includes('q=')").await, json!(true), "no reset after 继续");
        assert_eq!(eval(browser, "document.getElementById('idle-notice').hidden").await, json!(true));
        // Reading a document: a longer limit (three times), and no new
        // history entry for the document.
        find(browser, "#results .result-title").await.click().await.unwrap();
        wait_until(browser, "location.pathname.startsWith('/documents/')", "the reading view").await;
        assert_eq!(eval(browser, "history.length").await, entries, "no history entry for the search or the document");
        let reading = Instant::now();
        wait_until_within(browser, "location.pathname === '/'", "the reset from the reading view", Duration::from_secs(20)).await;
        assert!(reading.elapsed() >= Duration::from_secs(10), "reading limit too short: {:?}", reading.elapsed());
        wait_until(browser, "document.getElementById('q').value === '' && !document.getElementById('start').hidden", "start screen").await;
        assert_eq!(eval(browser, "location.search").await, json!("?kiosk=1&idle=4"));
        assert_eq!(eval(browser, "document.documentElement.className").await, json!("large kiosk"), "the size is reset");
        assert_eq!(eval(browser, "sessionStorage.getItem('yuelan.list')").await, Value::Null);
        // Back reaches nothing of the previous person.
        browser.back().await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let url = browser.current_url().await.unwrap();
        let text = eval(browser, "document.body ? document.body.innerText : ''").await;
        assert!(!url.as_str().contains("q=") && !url.path().starts_with("/documents/"), "Back reached {url}");
        assert!(!text.as_str().unwrap_or("").contains("低保"), "Back shows: {text}");
    })
    .await;
}

/// Journey 5: no dead ends. A stale link with an unknown order or a page
/// beyond the end shows a normal search; on a terminal 下载原件 gives way
/// to the QR code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_links_and_originals_on_a_terminal_lead_somewhere() {
    let (_, data) = fixture_archive("browser-dead-ends");
    in_browser("browser-dead-ends", &data, TERMINAL, |browser, base| async move {
        let browser = &browser;
        for stale in ["sort=sideways&offset=99999999", "offset=50", "sort=&offset=-3"] {
            browser.goto(&format!("{base}/?q={}&{stale}", enc("低保"))).await.unwrap();
            wait_until(browser, "document.querySelectorAll('#results .result').length === 2", stale).await;
            assert_eq!(find(browser, "#status").await.text().await.unwrap(), "找到 2 份文件", "{stale}");
            assert_eq!(eval(browser, "document.getElementById('sort').value").await, json!("relevance"));
            assert_eq!(eval(browser, "document.querySelector('#message.error') === null").await, json!(true));
        }
        // The API itself stays strict.
        let api = eval(browser, "fetch('/api/search?q=a&sort=sideways').then(r => r.status)").await;
        assert_eq!(api, json!(400));
        browser.goto(&format!("{base}/?kiosk=1")).await.unwrap();
        browser.goto(&format!("{base}/documents/{DIBAO}")).await.unwrap();
        let download = find(browser, "a.download").await;
        assert!(!download.is_displayed().await.unwrap(), "下载原件 is hidden on a terminal");
        assert!(find(browser, ".qr .kiosk-only").await.is_displayed().await.unwrap());
        assert!(find(browser, ".qr-code").await.is_displayed().await.unwrap());
    })
    .await;
}

/// Journey 10: choosing a category leaves the others on offer with their
/// counts; a date range is set with the date control, shows as a removable
/// chip, and 清除全部筛选 removes every filter at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_stay_on_offer_show_as_chips_and_clear_at_once() {
    let (_, data) = fixture_archive("browser-filters");
    in_browser("browser-filters", &data, PC, |browser, base| async move {
        let browser = &browser;
        browser.goto(&format!("{base}/?q={}", enc("低保"))).await.unwrap();
        wait_until(browser, "document.querySelectorAll('#results .result').length === 2", "two results").await;
        assert_eq!(eval(browser, "document.getElementById('active-filters').hidden").await, json!(true));
        find(browser, "#filters .chip[data-filter=category][data-value='社会救助']").await.click().await.unwrap();
        wait_until(browser, "document.querySelectorAll('#results .result').length === 1", "one filtered result").await;
        let categories = "Array.from(document.querySelectorAll('#filters .chip[data-filter=category]'))\
                          .map(c => c.dataset.value + ' ' + c.querySelector('.count').textContent + ' ' + c.getAttribute('aria-pressed'))";
        assert_eq!(eval(browser, categories).await, json!(["社会救助 1 份 true", "通知公告 1 份 false"]), "the other category stays");
        let chips = "Array.from(document.querySelectorAll('#active-filters button')).map(b => b.textContent)";
        assert_eq!(eval(browser, chips).await, json!(["分类：社会救助×", "清除全部筛选"]));
        // A date range from the date control.
        eval(browser, "(document.getElementById('from').value = '2023-01-01', document.getElementById('to').value = '2023-12-31', 0)")
            .await;
        find(browser, "#date-range button[type=submit]").await.click().await.unwrap();
        wait_until(browser, "location.search.includes('from=2023-01-01') && location.search.includes('to=2023-12-31')", "the range").await;
        wait_until(browser, "document.getElementById('status').textContent === '没有找到相关文件'", "nothing in 2023").await;
        assert_eq!(eval(browser, "document.getElementById('date-chip').textContent").await, json!("发布日期：2023-01-01 至 2023-12-31×"));
        find(browser, "#date-chip").await.click().await.unwrap();
        wait_until(browser, "!location.search.includes('from=') && document.querySelectorAll('#results .result').length === 1", "no range")
            .await;
        assert_eq!(eval(browser, "document.getElementById('from').value").await, json!(""));
        find(browser, "#clear-filters").await.click().await.unwrap();
        wait_until(browser, "document.querySelectorAll('#results .result').length === 2", "every filter gone").await;
        // The skip link lands on the first result; 清空 empties the box.
        eval(browser, "(document.getElementById('skip').click(), 0)").await;
        assert_eq!(eval(browser, "document.activeElement === document.querySelector('#results .result-title')").await, json!(true));
        let clear = find(browser, "#clear-q").await;
        assert!(eval(browser, "document.getElementById('clear-q').getBoundingClientRect().height").await.as_f64().unwrap() >= 48.0);
        clear.click().await.unwrap();
        assert_eq!(eval(browser, "[document.getElementById('q').value, document.activeElement.id]").await, json!(["", "q"]));
        assert_eq!(eval(browser, "location.search").await, json!(format!("?q={}", enc("低保"))));
        assert_eq!(eval(browser, "document.getElementById('active-filters').hidden").await, json!(true));
    })
    .await;
}

/// Click what `css` finds and wait for the browser to be at another
/// address; that address.
async fn follow(browser: &Client, css: &str) -> String {
    let before = browser.current_url().await.unwrap().to_string();
    find(browser, css).await.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = browser.current_url().await.unwrap().to_string();
        if now != before {
            return now;
        }
        assert!(Instant::now() < deadline, "{css} did not lead away from {before}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Journey 11: without JavaScript the page still searches, filters, sorts
/// and pages, and the list keeps its filters and sort throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_the_list_renders_and_keeps_filters_and_sort() {
    let data = sample_archive("browser-nojs");
    in_a_browser("browser-nojs", &data, PC, false, |browser, base| async move {
        let browser = &browser;
        let texts = |css: &str| {
            let css = css.to_string();
            async move {
                // A page still being replaced after a click leaves stale
                // elements: read again until one page answers.
                for _ in 0..50 {
                    let mut out = Vec::new();
                    for element in browser.find_all(Locator::Css(&css)).await.unwrap() {
                        match element.text().await {
                            Ok(text) => out.push(text),
                            Err(_) => break,
                        }
                    }
                    if out.len() == browser.find_all(Locator::Css(&css)).await.unwrap().len() {
                        return out;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                panic!("{css} kept changing")
            }
        };
        browser.goto(&format!("{base}/")).await.unwrap();
        // The script really is off: the text-size button stays hidden.
        assert!(!find(browser, "#text-size").await.is_displayed().await.unwrap());
        // An example is a link that searches.
        find(browser, ".examples a[data-q='怎么申请低保']").await.click().await.unwrap();
        let status = find(browser, "#status").await.text().await.unwrap();
        assert!(status.starts_with("找到 "), "{status}");
        assert!(!texts("#results .result-title").await.is_empty());
        // Search from the box.
        let input = find(browser, "#q").await;
        input.clear().await.unwrap();
        input.send_keys("临河区").await.unwrap();
        find(browser, "#search-button").await.click().await.unwrap();
        assert_eq!(texts("#results .result-title").await.len(), 10);
        // A filter link, then the sort form: both keep the list.
        let url = follow(browser, "#filters a.chip[href*='disclosure=public']").await;
        assert!(url.as_str().contains("disclosure=public"), "{url}");
        let chips = texts("#active-filters .chip").await;
        assert!(chips.len() == 1 && chips[0].starts_with("公开属性：主动公开"), "{chips:?}");
        find(browser, "#sort option[value=date_desc]").await.click().await.unwrap();
        let url = follow(browser, "#sort-form button[type=submit]").await;
        for kept in ["disclosure=public", "sort=date_desc", "q="] {
            assert!(url.as_str().contains(kept), "{kept} lost: {url}");
        }
        let first_page = texts("#results .result-title").await;
        assert_eq!(first_page.len(), 10);
        // Page on, open a document, and go back to this page by its link.
        let page_two = follow(browser, "#pager a:last-child").await;
        assert!(page_two.contains("offset=10") && page_two.contains("sort=date_desc"), "{page_two}");
        let second_page = texts("#results .result-title").await;
        assert_ne!(second_page, first_page);
        follow(browser, "#results .result-title").await;
        assert_eq!(follow(browser, "#back").await, page_two);
        assert_eq!(texts("#results .result-title").await, second_page);
        // Three reports of one title are told apart by their year.
        browser.goto(&format!("{base}/?q={}&category={}", enc("政府工作报告"), enc("政府工作报告"))).await.unwrap();
        let mut titles = texts("#results .result-title").await;
        titles.sort();
        assert_eq!(titles, ["政府工作报告（2017年）", "政府工作报告（2020年）", "政府工作报告（2023年）"]);
    })
    .await;
}

/// Journey 4: a terminal started for a reading point shows its name and
/// start categories in large type; a category is one tap; a search that
/// finds nothing offers one-tap ways on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reading_points_terminal_starts_with_its_categories_and_never_ends_empty() {
    let (_, data) = fixture_archive("browser-point");
    in_browser("browser-point", &data, TERMINAL, |browser, base| async move {
        let browser = &browser;
        browser.goto(&format!("{base}/?kiosk=1&point=dag")).await.unwrap();
        wait_until(browser, "!document.getElementById('point-name').hidden", "the point's name").await;
        assert_eq!(find(browser, "#point-name").await.text().await.unwrap(), "临河区档案馆阅览室");
        wait_until(browser, "document.querySelectorAll('#category-buttons a').length === 2", "the start categories").await;
        let buttons = "Array.from(document.querySelectorAll('#category-buttons a')).map(a => a.textContent)";
        assert_eq!(eval(browser, buttons).await, json!(["财政预决算", "征地拆迁"]));
        let size = eval(browser, "parseFloat(getComputedStyle(document.body).fontSize)").await.as_f64().unwrap();
        assert!(size >= 25.0, "type on the terminal: {size} px");
        let height = eval(browser, "document.querySelector('#category-buttons a').getBoundingClientRect().height").await;
        assert!(height.as_f64().unwrap() >= 48.0, "category button {height} px high");
        screenshot(browser, "browser-kiosk-start.png").await;
        find(browser, "#category-buttons a:last-child").await.click().await.unwrap();
        wait_until(browser, "document.querySelectorAll('#results .result').length === 1", "the category's documents").await;
        assert_eq!(
            eval(browser, "document.querySelector('#results .result-title').textContent").await,
            json!("关于公布征地补偿标准的通知")
        );
        // Nothing found: each word alone, and the categories, one tap away.
        type_query(browser, "龘靐 zzqxv").await;
        wait_until(browser, "document.querySelectorAll('#message .category-buttons a').length === 2", "the ways on").await;
        let ways = "Array.from(document.querySelectorAll('#message .alternatives button')).map(b => b.textContent)";
        assert_eq!(eval(browser, ways).await, json!(["去掉所有筛选条件", "只搜“龘靐”", "只搜“zzqxv”"]));
        find(browser, "#message .category-buttons a:first-child").await.click().await.unwrap();
        wait_until(browser, "document.querySelectorAll('#results .result').length === 2", "the budgets").await;
    })
    .await;
}
