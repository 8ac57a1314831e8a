//! End-to-end test of the real field app: the built Tauri binary driven through
//! tauri-driver and WebKitWebDriver, against the real `cunji-sync-server` binary on a
//! temporary SQLite file seeded with the demo village (scripts/demo-seed).
//!
//! One cadre signs in online, the server goes away, and offline they check in, record a
//! visit (with a finger signature), a delivery and a work log; the home screen shows what
//! waits. The server comes back, the app syncs, the county turns on the optional check-in
//! photo (`PUT /v1/settings/county/…`), and a second app instance with its own XDG_DATA_HOME
//! (the same cadre's new phone) receives all of it and offers the photo on its check-in
//! screen. Every main screen is
//! saved at 360×640 under target/screenshots/ and checked not to be blank.
//!
//! Needs the built app (`cargo build -p cunji-app` after `npm run build` in ui/), the server
//! binary, `tauri-driver` on PATH, WebKitWebDriver and a display (Xvfb): scripts/test runs it
//! with `cargo test -p cunji-tests --test it -- --ignored app_e2e::`.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cunji_tests::demo;
use thirtyfour::prelude::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Ends a child we started, politely first: SIGTERM lets tauri-driver stop WebKitWebDriver
/// (SIGKILL would orphan it).
fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(db: &Path, port: u16) -> Server {
        let child = Command::new(root().join("target/debug/cunji-sync-server"))
            .args(["--database", db.to_str().unwrap(), "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("target/debug/cunji-sync-server: build it first");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut server = Server { child, url };
        loop {
            if reqwest::blocking::get(format!("{}/healthz", server.url))
                .is_ok_and(|r| r.status().is_success())
            {
                return server;
            }
            if Instant::now() > deadline || server.child.try_wait().is_ok_and(|s| s.is_some()) {
                terminate(&mut server.child);
                panic!("the sync server did not start");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// One app instance: a tauri-driver of its own (own ports, own XDG_DATA_HOME) and a session.
struct App {
    driver: Option<WebDriver>,
    tauri_driver: Child,
}

impl App {
    async fn start(data_home: &Path) -> App {
        let port = free_port();
        let native = free_port();
        let tauri_driver = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("XDG_DATA_HOME", data_home)
            // The phones' clock zone: R2's working hours are local time.
            .env("TZ", "Asia/Shanghai")
            // A desktop has no GPS: the app's fixed location, inside 新庄村's geofence.
            .env("CUNJI_LOCATION", "25.0315,103.6671,12")
            .stdout(Stdio::null())
            .spawn()
            .expect("tauri-driver on PATH (cargo install tauri-driver --locked)");
        let mut caps = Capabilities::new();
        caps.set("browserName", "wry").unwrap();
        caps.set(
            "tauri:options",
            serde_json::json!({ "application": root().join("target/debug/cunji-app") }),
        )
        .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let driver = loop {
            match WebDriver::new(&url, caps.clone()).await {
                Ok(d) => break d,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("waiting for tauri-driver: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("no WebDriver session: {e}"),
            }
        };
        App {
            driver: Some(driver),
            tauri_driver,
        }
    }

    fn d(&self) -> &WebDriver {
        self.driver.as_ref().unwrap()
    }

    async fn find(&self, css: &str) -> WebElement {
        match self
            .d()
            .query(By::Css(css))
            .wait(Duration::from_secs(30), Duration::from_millis(200))
            .first()
            .await
        {
            Ok(e) => e,
            Err(e) => {
                self.failure_shot().await;
                panic!("{css} did not appear: {e}")
            }
        }
    }

    /// What the screen showed when a step failed: target/screenshots/failure.png.
    async fn failure_shot(&self) {
        if let Ok(png) = self.d().screenshot_as_png().await {
            let dir = root().join("target/screenshots");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join("failure.png"), &png);
        }
    }

    /// Goes back the way a cadre would: the nav bar's arrow, or the phone's back button
    /// (`history.back()`) on a screen without one. WebDriver's own Back waits for a page load
    /// that a hash-routed single page never makes, and hangs.
    async fn back(&self) {
        let arrows = self
            .d()
            .find_all(By::Css(".van-nav-bar__left"))
            .await
            .unwrap();
        if let Some(arrow) = arrows.first() {
            arrow.click().await.unwrap();
        } else {
            self.d().execute("history.back()", vec![]).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// Taps `css` as a thumb would: scrolled to the middle of the screen first (the tab bar is
    /// fixed over the bottom of the page), and again while a toast or a transition still
    /// covers it, for up to 5 s.
    async fn click(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let e = self.find(css).await;
            self.d()
                .execute(
                    "arguments[0].scrollIntoView({block: 'center'});",
                    vec![e.to_json().unwrap()],
                )
                .await
                .unwrap();
            match e.click().await {
                Ok(()) => return,
                Err(err)
                    if matches!(
                        err.as_inner(),
                        thirtyfour::error::WebDriverErrorInner::ElementClickIntercepted(_)
                    ) && Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(err) => {
                    self.failure_shot().await;
                    panic!("tapping {css}: {err}");
                }
            }
        }
    }

    async fn click_text(&self, text: &str) {
        let xpath = format!("//*[normalize-space(text())='{text}']");
        self.d()
            .query(By::XPath(&xpath))
            .wait(Duration::from_secs(20), Duration::from_millis(200))
            .first()
            .await
            .unwrap_or_else(|e| panic!("no element says {text}: {e}"))
            .click()
            .await
            .unwrap();
    }

    async fn type_into(&self, css: &str, text: &str) {
        let input = self.find(css).await;
        // WebDriver's clear does not reach Vue's v-model: empty it the way typing would.
        self.d()
            .execute(
                "arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input'));",
                vec![input.to_json().unwrap()],
            )
            .await
            .unwrap();
        input.send_keys(text).await.unwrap();
    }

    /// Waits until `css`'s text satisfies `ok`, returning the text.
    async fn wait_text(&self, css: &str, ok: impl Fn(&str) -> bool, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Ok(e) = self.d().find(By::Css(css)).await
                && let Ok(t) = e.text().await
                && ok(&t)
            {
                return t;
            }
            if Instant::now() > deadline {
                self.failure_shot().await;
                panic!("timed out waiting for {what} ({css})");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Saves the window as target/screenshots/NAME.png and checks it is a real picture.
    async fn shot(&self, name: &str) {
        // Let toasts and transitions settle.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let png = self.d().screenshot_as_png().await.unwrap();
        check_not_blank(name, &png);
        let dir = root().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    }

    async fn quit(mut self) {
        if let Some(d) = self.driver.take() {
            let _ = d.quit().await;
        }
        terminate(&mut self.tauri_driver);
    }
}

impl Drop for App {
    fn drop(&mut self) {
        terminate(&mut self.tauri_driver);
    }
}

/// A screenshot is 360×640-ish and shows a real screen: many colours, no colour covering
/// nearly all of it.
fn check_not_blank(name: &str, bytes: &[u8]) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width, info.height);
    assert!(
        (300..=800).contains(&w) && (500..=1400).contains(&h),
        "{name}: {w}×{h} is not a phone-sized window"
    );
    let channels = info.color_type.samples();
    let mut counts = std::collections::HashMap::new();
    for px in buf[..info.buffer_size()].chunks(channels) {
        *counts.entry((px[0], px[1], px[2])).or_insert(0usize) += 1;
    }
    let total = (w * h) as usize;
    let top = counts.values().max().copied().unwrap_or(0);
    assert!(
        counts.len() >= 16,
        "{name}: only {} colours: blank?",
        counts.len()
    );
    assert!(
        top * 100 < total * 97,
        "{name}: one colour covers {top} of {total} pixels"
    );
}

/// The PIN the test's phones encrypt their stores with.
const PIN: &str = "258036";

/// Chooses the PIN on a new phone (typed twice); the sign-in screen follows.
async fn choose_pin(app: &App) {
    app.find("[data-test=unlock]").await;
    app.type_into("[data-test=pin] input", PIN).await;
    app.type_into("[data-test=pin-again] input", PIN).await;
    app.click("[data-test=pin-submit]").await;
}

async fn sign_in(app: &App, url: &str) {
    app.find("[data-test=login]").await;
    app.type_into("[data-test=server] input", url).await;
    app.type_into("[data-test=account] input", demo::TEAM_MEMBER)
        .await;
    app.type_into("[data-test=password] input", demo::DEMO_PASSWORD)
        .await;
}

/// Sets the demo county's check-in photo to `optional` through the API, as its office would
/// (the seed's administrator, signed in from a browser session).
fn offer_check_in_photo(url: &str) {
    let http = reqwest::blocking::Client::new();
    let session: serde_json::Value = http
        .post(format!("{url}/v1/session"))
        .json(&serde_json::json!({"login": "admin", "password": demo::DEMO_PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let county = &demo::VILLAGE_CODE[..6];
    let resp = http
        .put(format!("{url}/v1/settings/county/{county}"))
        .bearer_auth(session["token"].as_str().unwrap())
        .json(&serde_json::json!({"check_in_photo": "optional"}))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built app, tauri-driver, WebKitWebDriver and a display: scripts/test runs it"]
async fn offline_records_sync_to_a_second_device() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("server.sqlite3");
    let seed = Command::new(root().join("scripts/demo-seed"))
        .args(["accounts", db.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(seed.success(), "scripts/demo-seed accounts failed");
    let port = free_port();
    let server = tokio::task::block_in_place(|| Server::start(&db, port));
    let url = server.url.clone();
    let seed_dir = tmp.path().join("seed");
    std::fs::create_dir_all(&seed_dir).unwrap();
    let assignments = tokio::task::spawn_blocking({
        let url = url.clone();
        move || {
            demo::seed_households(
                &url,
                demo::FIRST_SECRETARY,
                demo::DEMO_PASSWORD,
                demo::TEAM_MEMBER,
                6,
                &seed_dir,
            )
            .unwrap()
        }
    })
    .await
    .unwrap();
    let csv = tmp.path().join("assignments.csv");
    std::fs::write(&csv, assignments).unwrap();
    let import = Command::new(root().join("target/debug/cunji-sync-server"))
        .args(["--database", db.to_str().unwrap(), "import-assignments"])
        .arg(&csv)
        .status()
        .unwrap();
    assert!(import.success());

    // --- first phone: sign in online once -------------------------------------------------
    let a = App::start(&tmp.path().join("phone-a")).await;
    a.find("[data-test=unlock]").await;
    // A PIN too short, then two that differ, are refused on the screen.
    a.type_into("[data-test=pin] input", "1234").await;
    a.type_into("[data-test=pin-again] input", "1234").await;
    a.click("[data-test=pin-submit]").await;
    a.wait_text(
        "[data-test=pin-problem]",
        |t| t.contains("至少6位"),
        "the short-PIN warning",
    )
    .await;
    a.shot("00-choose-pin").await;
    choose_pin(&a).await;
    a.find("[data-test=login]").await;
    a.shot("01-login").await;
    sign_in(&a, &url).await;
    a.click("[data-test=login-submit]").await;
    a.find("[data-test=home]").await;
    let data_dir = tmp.path().join("phone-a/org.cunji.field/cunji.sqlite3");
    assert!(
        data_dir.exists(),
        "the app keeps its data under XDG_DATA_HOME"
    );

    // --- the server goes away: everything below is offline --------------------------------
    drop(server);
    a.wait_text(
        "[data-test=online]",
        |t| t == "离线",
        "the offline indicator",
    )
    .await;
    a.wait_text(
        "[data-test=checkin-state]",
        |t| t.contains("还未打卡"),
        "no check-in yet",
    )
    .await;
    a.shot("02-home").await;

    a.click("[data-test=go-checkin]").await;
    a.wait_text(
        "[data-test=location]",
        |t| t.contains("25.03"),
        "the location",
    )
    .await;
    // R2 counts a check-in made 06:00–22:00 on the phone's clock (Asia/Shanghai here).
    let checked_in_at = chrono::Utc::now() + chrono::Duration::hours(8);
    a.click("[data-test=checkin-tap]").await;
    let result = a
        .wait_text(
            "[data-test=checkin-result]",
            |t| t.contains("打卡成功"),
            "check-in",
        )
        .await;
    assert!(result.contains("新庄村"), "{result}");
    assert!(
        result.contains("在村范围内"),
        "geofence result shown: {result}"
    );
    a.shot("03-checkin").await;
    a.back().await;

    a.click("[data-test=go-households]").await;
    a.find("[data-test=hh-item]").await;
    a.type_into("[data-test=hh-search] input", "张建国").await;
    a.wait_text(
        "[data-test=households]",
        |t| !t.contains("李桂芬"),
        "the search",
    )
    .await;
    a.shot("04-households").await;
    a.click("[data-test=hh-item]").await;
    a.find("[data-test=flags]").await;
    a.shot("05-household").await;

    a.click("[data-test=new-visit]").await;
    a.find("[data-test=checklist]").await;
    a.type_into("[data-test=visit-demands] textarea", "希望修通组路")
        .await;
    a.type_into("[data-test=visit-actions] textarea", "讲解以工代赈政策")
        .await;
    let pad = a.find("[data-test=signature]").await;
    pad.scroll_into_view().await.unwrap();
    a.d()
        .action_chain()
        .move_to_element_center(&pad)
        .click_and_hold()
        .move_by_offset(30, 10)
        .move_by_offset(30, -15)
        .move_by_offset(20, 12)
        .release()
        .perform()
        .await
        .unwrap();
    a.wait_text(
        "[data-test=draft-note]",
        |t| t.contains("草稿"),
        "the draft being saved",
    )
    .await;
    a.shot("06-visit").await;
    a.click("[data-test=visit-save]").await;
    a.wait_text(
        "[data-test=household]",
        |t| t.contains("家庭成员"),
        "back on the household",
    )
    .await;

    a.click_text("政策").await;
    a.click("[data-test=deliver]").await;
    a.type_into("[data-test=delivery-amount] input", "500")
        .await;
    a.type_into("[data-test=delivery-voucher] input", "YKT2026112200017")
        .await;
    a.shot("07-delivery").await;
    a.click("[data-test=delivery-save]").await;
    a.click_text("政策").await;
    a.wait_text(
        "[data-test=entitlement]",
        |t| t.contains("已兑现"),
        "the delivery",
    )
    .await;
    a.click_text("走访").await;
    a.wait_text(
        "[data-test=visit-item]",
        |t| t.contains("希望修通组路"),
        "the visit",
    )
    .await;
    a.click_text("修改记录").await;
    a.wait_text(
        "[data-test=history]",
        |t| t.contains("wangzg"),
        "who created the household",
    )
    .await;
    a.shot("08-household-history").await;

    // Saving the visit and the delivery went back to the household page: one step back is
    // the list.
    a.back().await;
    a.find("[data-test=households]").await;
    a.click("[data-test=tabbar] .van-tabbar-item:nth-child(1)")
        .await;
    a.click("[data-test=go-worklog]").await;
    a.click("[data-test=activity-household_visits]").await;
    a.type_into(
        "[data-test=worklog-summary] textarea",
        "走访张建国户,登记教育补助兑现",
    )
    .await;
    a.shot("09-worklog").await;
    a.click("[data-test=worklog-save]").await;
    a.back().await;

    // A petition taken in the village (DOMAIN §2, R15), offline too.
    a.click("[data-test=go-petitions]").await;
    a.click("[data-test=new-petition]").await;
    a.type_into(
        "[data-test=petition-summary] textarea",
        "反映三组道路雨天积水",
    )
    .await;
    a.shot("17-petition").await;
    a.click("[data-test=petition-save]").await;
    a.wait_text(
        "[data-test=petitions]",
        |t| t.contains("反映三组道路雨天积水"),
        "the petition in the list",
    )
    .await;
    a.back().await;

    // 投诉建议 (issue 16 item 9), offline: a category chosen, the text written, saved on the
    // phone and listed as not yet synced.
    a.click("[data-test=go-feedback]").await;
    a.click("[data-test=feedback-category-suggestion]").await;
    a.type_into("[data-test=feedback-text] textarea", "希望台账能批量签字")
        .await;
    a.click("[data-test=feedback-save]").await;
    a.wait_text(
        "[data-test=feedback-mine]",
        |t| t.contains("希望台账能批量签字") && t.contains("未同步"),
        "the feedback in the list, not yet synced",
    )
    .await;
    a.shot("22-feedback").await;
    a.back().await;

    a.click("[data-test=go-leave]").await;
    a.find("[data-test=leave-reason]").await;
    a.shot("10-leave").await;
    a.back().await;
    a.click("[data-test=go-conflicts]").await;
    a.find("[data-test=conflicts]").await;
    a.shot("11-conflicts").await;
    a.back().await;
    a.click("[data-test=tabbar] .van-tabbar-item:nth-child(3)")
        .await;
    let in_village_days = u32::from((6..22).contains(&chrono::Timelike::hour(&checked_in_at)));
    let expected = format!("在村 {in_village_days} 天");
    a.wait_text("[data-test=summary]", |t| t.contains(&expected), &expected)
        .await;
    a.find("[data-test=calendar]").await;
    a.shot("12-mylog").await;
    a.click("[data-test=tabbar] .van-tabbar-item:nth-child(1)")
        .await;
    let waiting = a
        .wait_text(
            "[data-test=waiting]",
            |t| t.parse::<u32>().is_ok_and(|n| n >= 5),
            "records waiting",
        )
        .await;
    eprintln!("offline: {waiting} changes waiting to sync");
    a.find("[data-test=lang]").await.click().await.unwrap();
    a.wait_text("[data-test=online]", |t| t == "Offline", "English")
        .await;
    a.shot("13-home-english").await;
    a.find("[data-test=lang]").await.click().await.unwrap();

    // --- the server is back: sync -------------------------------------------------------
    let server = tokio::task::block_in_place(|| Server::start(&db, port));
    a.click("[data-test=sync]").await;
    a.wait_text("[data-test=waiting]", |t| t == "0", "everything sent")
        .await;
    a.wait_text(
        "[data-test=online]",
        |t| t == "在线",
        "the online indicator",
    )
    .await;
    a.shot("14-home-synced").await;
    a.quit().await;

    // --- the same phone reopened: its records open only with the PIN ------------------------
    let store = std::fs::read(&data_dir).unwrap();
    assert!(
        !store
            .windows("希望修通组路".len())
            .any(|w| w == "希望修通组路".as_bytes()),
        "the visit's text is readable in the phone's database file"
    );
    let a = App::start(&tmp.path().join("phone-a")).await;
    a.find("[data-test=unlock]").await;
    assert!(
        a.d().find(By::Css("[data-test=pin-again]")).await.is_err(),
        "a phone with a store asks for its PIN once, not for a new one"
    );
    a.type_into("[data-test=pin] input", "999999").await;
    a.click("[data-test=pin-submit]").await;
    a.wait_text(
        ".van-toast",
        |t| t.contains("PIN码不对"),
        "the wrong-PIN message",
    )
    .await;
    a.shot("16-wrong-pin").await;
    a.type_into("[data-test=pin] input", PIN).await;
    a.click("[data-test=pin-submit]").await;
    a.wait_text("[data-test=waiting]", |t| t == "0", "the reopened home")
        .await;
    a.quit().await;

    // --- the county offers a check-in photo (a ⚙ setting, off by default) ------------------
    tokio::task::spawn_blocking({
        let url = server.url.clone();
        move || offer_check_in_photo(&url)
    })
    .await
    .unwrap();

    // --- a second phone of the same cadre receives it all ---------------------------------
    let b = App::start(&tmp.path().join("phone-b")).await;
    choose_pin(&b).await;
    sign_in(&b, &server.url).await;
    b.click("[data-test=login-submit]").await;
    b.wait_text(
        "[data-test=checkin-state]",
        |t| t.contains("已打卡 1 次"),
        "the check-in on phone B",
    )
    .await;
    // Its sign-in synced and fetched the county's settings: the check-in offers a photo.
    b.click("[data-test=go-checkin]").await;
    b.wait_text(
        "[data-test=photo-tap]",
        |t| t.contains("拍照 (可选)"),
        "the optional photo button",
    )
    .await;
    b.shot("18-checkin-photo-optional").await;
    b.back().await;
    b.click("[data-test=go-households]").await;
    b.type_into("[data-test=hh-search] input", "张建国").await;
    b.wait_text(
        "[data-test=households]",
        |t| !t.contains("李桂芬"),
        "the search",
    )
    .await;
    b.click("[data-test=hh-item]").await;
    b.click_text("走访").await;
    b.wait_text(
        "[data-test=visit-item]",
        |t| t.contains("希望修通组路"),
        "the visit on phone B",
    )
    .await;
    b.click_text("政策").await;
    b.wait_text(
        "[data-test=entitlement]",
        |t| t.contains("已兑现"),
        "the delivery on phone B",
    )
    .await;
    b.shot("15-second-phone-household").await;
    b.back().await;
    b.click("[data-test=tabbar] .van-tabbar-item:nth-child(1)")
        .await;
    b.click("[data-test=go-petitions]").await;
    b.wait_text(
        "[data-test=petitions]",
        |t| t.contains("反映三组道路雨天积水"),
        "the petition on phone B",
    )
    .await;
    // The feedback reached the server: the author's other phone receives it (its own scope),
    // waiting for the county office's answer.
    b.back().await;
    b.click("[data-test=go-feedback]").await;
    b.wait_text(
        "[data-test=feedback-mine]",
        |t| t.contains("希望台账能批量签字") && t.contains("待答复"),
        "the feedback on phone B",
    )
    .await;
    b.quit().await;
    drop(server);
}

/// Signs in as `login` on the sign-in screen.
async fn sign_in_as(app: &App, url: &str, login: &str) {
    app.find("[data-test=login]").await;
    app.type_into("[data-test=server] input", url).await;
    app.type_into("[data-test=account] input", login).await;
    app.type_into("[data-test=password] input", demo::DEMO_PASSWORD)
        .await;
    app.click("[data-test=login-submit]").await;
}

/// A team member's phone (the core's `FieldApp` over its own file) requests leave starting in
/// three days and syncs it; returns the request's id.
fn members_leave_request(url: &str, dir: &Path) -> String {
    use cunji_core::field::{FieldApp, LeaveInput, LoginInput, now};
    let mut phone = FieldApp::open(dir, "246810").unwrap();
    phone
        .login(&LoginInput {
            server_url: url.into(),
            login: demo::TEAM_MEMBER.into(),
            password: demo::DEMO_PASSWORD.into(),
        })
        .unwrap();
    let from = cunji_core::field::today() + chrono::Duration::days(3);
    let id = phone
        .request_leave(
            &LeaveInput {
                leave_type: cunji_core::domain::codes::LeaveType::Personal,
                from,
                to: from + chrono::Duration::days(1),
                reason: "母亲住院手术,需陪护".into(),
                evidence: None,
            },
            now(),
        )
        .unwrap();
    let report = phone.sync(&mut |_| {}).unwrap();
    assert_eq!(report.rejected, 0);
    id
}

/// The member's phone after a sync: where its request stands and who endorsed it.
fn members_view(dir: &Path, id: &str) -> cunji_core::field::LeaveRow {
    use cunji_core::field::FieldApp;
    let mut phone = FieldApp::open(dir, "246810").unwrap();
    let report = phone.sync(&mut |_| {}).unwrap();
    assert_eq!(report.rejected, 0);
    phone
        .my_leaves(cunji_core::field::today())
        .unwrap()
        .into_iter()
        .find(|l| l.id == id)
        .unwrap()
}

/// The first secretary's phone (the real app): its home shows the team member's pending
/// request; it opens it, takes 队长同意 with the UI and syncs; the member's phone then sees
/// the request waiting for the township, endorsed by the first secretary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built app, tauri-driver, WebKitWebDriver and a display: scripts/test runs it"]
async fn the_first_secretary_endorses_leave_from_its_home() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("server.sqlite3");
    let seed = Command::new(root().join("scripts/demo-seed"))
        .args(["accounts", db.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(seed.success(), "scripts/demo-seed accounts failed");
    let server = tokio::task::block_in_place(|| Server::start(&db, free_port()));
    let url = server.url.clone();
    let member_dir = tmp.path().join("member-phone");
    std::fs::create_dir_all(&member_dir).unwrap();
    let id = tokio::task::spawn_blocking({
        let (url, dir) = (url.clone(), member_dir.clone());
        move || members_leave_request(&url, &dir)
    })
    .await
    .unwrap();

    let a = App::start(&tmp.path().join("leader-phone")).await;
    choose_pin(&a).await;
    sign_in_as(&a, &url, demo::FIRST_SECRETARY).await;
    a.wait_text(
        "[data-test=team-leave-count]",
        |t| t.contains("(1)"),
        "the team's pending leave",
    )
    .await;
    let card = a
        .wait_text(
            "[data-test=team-pending]",
            |t| t.contains("的请假"),
            "the pending leave",
        )
        .await;
    assert!(card.contains(demo::TEAM_MEMBER), "{card}");
    a.shot("19-home-team-pending").await;
    a.click("[data-test=pending-leave]").await;
    a.wait_text(
        "[data-test=leave-stage]",
        |t| t.contains("待队长同意"),
        "the request's stage",
    )
    .await;
    a.shot("20-endorse-leave").await;
    // Sending back asks for a reason, never pre-filled.
    a.click("[data-test=send-back]").await;
    let reason = a.find("[data-test=send-back-reason] textarea").await;
    assert_eq!(reason.value().await.unwrap().unwrap_or_default(), "");
    a.click("[data-test=send-back-confirm]").await;
    a.wait_text(
        ".van-toast",
        |t| t.contains("写明理由"),
        "the reason is required",
    )
    .await;
    a.click("[data-test=endorse]").await;
    a.wait_text(
        ".van-toast",
        |t| t.contains("队长同意"),
        "the endorsement's feedback",
    )
    .await;
    a.wait_text(
        "[data-test=team-count]",
        |t| t == "0",
        "nothing waits any more",
    )
    .await;
    a.click("[data-test=sync]").await;
    a.wait_text("[data-test=waiting]", |t| t == "0", "the endorsement sent")
        .await;
    a.shot("21-home-endorsed").await;
    a.quit().await;

    let row = tokio::task::spawn_blocking({
        let (dir, id) = (member_dir.clone(), id.clone());
        move || members_view(&dir, &id)
    })
    .await
    .unwrap();
    assert_eq!(row.stage, cunji_core::field::LeaveStage::AwaitingTownship);
    assert_eq!(
        row.leave.endorsed_by.as_deref(),
        Some(demo::FIRST_SECRETARY)
    );
    drop(server);
}
