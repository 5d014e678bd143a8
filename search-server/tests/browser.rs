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

async fn open_browser(driver: &Driver, profile: &Path) -> Client {
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
        "--window-size=1280,1000",
        "--lang=zh-CN",
    ];
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), json!({ "binary": chrome, "args": args }));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("open a WebDriver session in headless Chromium")
}

/// Poll `script` (a JS expression) until it is true.
async fn wait_until(browser: &Client, script: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_searches_filters_reads_and_the_kiosk_resets() {
    let (_, data) = fixture_archive("browser");
    let base = format!("http://{}", serve(&data, config()));
    let driver = start_driver();
    let browser = open_browser(&driver, &scratch("browser-profile")).await;
    // Run the steps as a task so that a failed step still closes the browser.
    let outcome = tokio::spawn(journey(browser.clone(), base)).await;
    browser.close().await.unwrap();
    if let Err(failed) = outcome {
        std::panic::resume_unwind(failed.into_panic());
    }
}

async fn journey(browser: Client, base: String) {
    let browser = &browser;
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
    find(browser, "#text-size").await.click().await.unwrap();

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
