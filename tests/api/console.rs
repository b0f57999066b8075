//! The console over HTTP: the pages officials see, fetched with a real session (the session cookie is the API's
//! token), checked for what they must show.

use crate::helpers::*;
use crate::workflow_helpers::*;

impl TestApp {
    /// A console page's HTML, as the holder of `token` sees it.
    pub async fn page(&self, token: &str, path: &str) -> (u16, String) {
        let url = format!("{}{}", self.base, path);
        let r = self.client.get(url).header("cookie", format!("kd_session={token}")).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// The value of `href` on the element with this id, unescaped the way maud escapes `&`.
fn href_of(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..at + html[at..].find('>')?];
    let href = tag.split("href=\"").nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&"))
}

#[tokio::test]
async fn every_request_is_reachable_newest_first_and_searchable() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let mut ids = Vec::new();
    for n in 0..120 {
        let mut body = spp("5.2.1.07", "02.03.10", "DDS", "100000.00", serde_json::json!([]));
        body["payee"]["name"] = serde_json::json!(format!("Penerima nomor {n:03}"));
        ids.push(app.draft(&v, &body).await);
    }
    // The first page shows the newest request first and not the oldest; "older" pages lead to the oldest.
    let (status, first) = app.page(&v.implementer, "/console/inbox").await;
    assert_eq!(status, 200);
    let all = &first[first.find("id=\"all\"").unwrap()..];
    let newest = all.find(&ids[119]).expect("the newest request is on the first page");
    assert!(all.find(&ids[118]).unwrap() > newest, "newest first");
    assert!(!all.contains(&ids[0]), "the oldest is not on the first page");
    let mut path = href_of(&first, "older").expect("a link to older requests");
    let mut pages = 1;
    let found = loop {
        let (status, html) = app.page(&v.implementer, &path).await;
        assert_eq!(status, 200, "{path}");
        pages += 1;
        // The implementer's waiting list above shows every draft: only the list of all requests counts here.
        let all = html[html.find("id=\"all\"").unwrap()..].to_string();
        if all.contains(&ids[0]) {
            assert!(!all.contains(&ids[50]), "pages do not overlap");
            break html;
        }
        path = href_of(&html, "older").expect("older pages until the oldest request");
        assert!(pages < 10);
    };
    assert_eq!(pages, 3, "120 requests, 50 a page");
    assert!(href_of(&found, "older").is_none(), "the last page has no older one");

    // Search by payee: exactly that request; by a word of the description: all of them, paged.
    let (_, hit) = app.page(&v.implementer, "/console/inbox?q=PENERIMA+nomor+007").await;
    let hit = &hit[hit.find("id=\"all\"").unwrap()..];
    assert!(hit.contains(&ids[7]));
    assert_eq!(ids.iter().filter(|id| hit.contains(id.as_str())).count(), 1, "only the one that matches");
    let (_, none) = app.page(&v.implementer, "/console/inbox?q=%25").await;
    let none = &none[none.find("id=\"all\"").unwrap()..];
    assert!(ids.iter().all(|id| !none.contains(id.as_str())), "% is a character, not a wildcard");
    let (_, drafts) = app.page(&v.implementer, "/console/inbox?status=paid").await;
    let drafts = &drafts[drafts.find("id=\"all\"").unwrap()..];
    assert!(ids.iter().all(|id| !drafts.contains(id.as_str())), "no request is paid");
}

#[tokio::test]
async fn the_drafting_form_proposes_withholdings_from_the_calculator() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let (status, form) = app.page(&v.implementer, "/console/payments/new").await;
    assert_eq!(status, 200);
    let csrf = form.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let fields = [
        ("csrf", csrf.as_str()),
        ("idem", "k-1"),
        ("description", "Semen"),
        ("fiscal_year", "2026"),
        ("activity_code", "02.03.10"),
        ("payee_name", "CV Maju"),
        ("bank_code", "123"),
        ("account_number", "1009876543"),
        ("npwp", "01.234.567.8-901.000"),
        ("invoice_date", "2026-03-02"),
        ("tax_kind", "goods"),
        ("vendor_pkp", "1"),
        ("includes_vat", "1"),
        ("l0_account", "5.2.1.07"),
        ("l0_source", "DDS"),
        ("l0_amount", "11.100.000"),
    ];
    let post = |extra: Option<(&'static str, &'static str)>| {
        let mut f: Vec<(&str, &str)> = fields.to_vec();
        f.extend(extra);
        app.client
            .post(format!("{}/console/payments", app.base))
            .header("cookie", format!("kd_session={}", v.implementer))
            .form(&f)
            .send()
    };
    let proposed = post(Some(("propose", "1"))).await.unwrap();
    assert_eq!(proposed.status().as_u16(), 200);
    let html = proposed.text().await.unwrap();
    assert!(html.contains("id=\"taxes-proposed\""), "{html}");
    assert!(html.contains("value=\"1.100.000\"") && html.contains("value=\"150.000\""), "PPN and PPh 22 filled in");
    // Nothing was saved by the proposal; saving with the proposal accepted drafts it with those withholdings.
    let list = app.get(&format!("/api/v1/villages/{}/payments", v.id)).token(&v.secretary).send().await;
    assert_eq!(list.assert_status(200)["items"].as_array().unwrap().len(), 0);
    // The client follows the redirect to the new request's page.
    let saved = post(None).await.unwrap();
    assert!(saved.url().as_str().contains("done=created"), "{}", saved.url());
    let list = app.get(&format!("/api/v1/villages/{}/payments", v.id)).token(&v.secretary).send().await;
    let item = list.assert_status(200)["items"][0].clone();
    assert_eq!(item["withheld"], "1250000.00", "{item}");
    assert_eq!(item["net"], "9850000.00");
}

#[tokio::test]
async fn a_cold_browser_load_finds_its_icon() {
    let app = spawn_app().await;
    for path in ["/favicon.ico", "/console/assets/favicon.svg"] {
        let r = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        assert!(r.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    }
}

#[tokio::test]
async fn pages_write_npwp_and_percentages_the_indonesian_way() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let inspector = app.inspector(&regency, "inspektorat").await;
    let bank = app.bank(&[&v.id]).await;
    app.adopt_budget(&v, &standard_budget()).await;
    app.credit(&bank, &v, "285000000.00", "DDS", "DDS-1").await.assert_status(201);
    let id = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "1000000.00", serde_json::json!([]))).await;
    let (_, page) = app.page(&v.implementer, &format!("/console/payments/{id}")).await;
    assert!(page.contains("01.234.567.8-901.000"), "the NPWP as people write it");
    let (_, dashboard) = app.page(&inspector, "/console/dashboard?year=2026").await;
    assert!(dashboard.contains("57,00 %"), "285,000,000 of 500,000,000 with a decimal comma");
    assert!(!dashboard.contains("57.00 %"));
}

/// Signs in on the console's form: the login page's cookie and token, then the form. The answer's status and page.
async fn console_sign_in(app: &TestApp, username: &str, password: &str) -> (u16, String) {
    let page = app.client.get(format!("{}/console/login", app.base)).send().await.unwrap();
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("kd_login="))
        .map(|c| c.split(';').next().unwrap().to_string())
        .expect("the login page sets its cookie");
    let html = page.text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/console/login", app.base))
        .header("cookie", cookie)
        .form(&[("csrf", csrf.as_str()), ("username", username), ("password", password), ("next", "/console")])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn console_sign_in_ignores_case_and_warns_before_the_lockout() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.inspector(&regency, "inspektorat").await;
    let (status, _) = console_sign_in(&app, "INSPEKTORAT", PASSWORD).await;
    assert_eq!(status, 303, "the name in capitals is the same user");
    for attempt in 1..=4 {
        let (status, page) = console_sign_in(&app, "inspektorat", "salah-sandi-123").await;
        assert_eq!(status, 401);
        let warned = page.contains("percobaan lagi sebelum masuk");
        assert_eq!(warned, attempt >= 3, "attempt {attempt}: warned from the third failure on");
        if attempt == 4 {
            assert!(page.contains("Tinggal 1 percobaan"), "one left of five");
        }
    }
}

#[tokio::test]
async fn a_request_of_many_payees_lists_its_receipts() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let receipts: Vec<serde_json::Value> = (1..=3)
        .map(|i| {
            serde_json::json!({"payee": {"name": format!("Pekerja {i}"), "bank_code": "123", "account_number": format!("10000{i}")},
                   "lines": [{"account_code": "5.2.1.07", "source": "DDS", "amount": "400000.00", "withholdings": []}]})
        })
        .collect();
    let body = serde_json::json!({"activity_code": "02.03.10", "description": "Upah harian", "receipts": receipts});
    let id = app.draft(&v, &body).await;
    let (status, page) = app.page(&v.implementer, &format!("/console/payments/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Kuitansi per penerima (3)"), "{page}");
    for s in ["0003/KW/61.12.01.2001/2026", "Pekerja 2", "Belum dikirim ke bank", "400.000,00"] {
        assert!(page.contains(s), "{s} on the request's page");
    }
    let (_, single) =
        app.page(&v.implementer, &format!("/console/payments/{}", app.draft(&v, &materials_spp()).await)).await;
    assert!(!single.contains("Kuitansi per penerima"), "a request of one payee has no receipt list");
}

/// The form's CSRF token on a console page.
fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

async fn console_post(app: &TestApp, token: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .header("cookie", format!("kd_session={token}"))
        .form(fields)
        .send()
        .await
        .unwrap();
    let url = r.url().to_string();
    (r.status().as_u16(), url, r.text().await.unwrap())
}

#[tokio::test]
async fn a_pasted_payee_list_drafts_one_request_of_many_receipts() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let (_, form) = app.page(&v.implementer, "/console/payments/new").await;
    assert!(form.contains("name=\"payees_csv\""), "the drafting form takes a pasted list");
    let csrf = csrf_of(&form);
    // Pasted from a spreadsheet (tabs), from a note (semicolons), with Indonesian amounts.
    let list = "Ahmad\t002\t1234567890\t1.500.000\nSiti; 002; 9876543210; 1.250.000,50; 01.234.567.8-901.000\n\n";
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("idem", "k-many"),
        ("description", "Upah harian Oktober"),
        ("fiscal_year", "2026"),
        ("activity_code", "02.03.10"),
        ("l0_account", "5.2.1.07"),
        ("l0_source", "DDS"),
        ("payees_csv", list),
    ];
    let (status, url, _) = console_post(&app, &v.implementer, "/console/payments", &fields).await;
    assert_eq!(status, 200);
    assert!(url.contains("done=created"), "{url}");
    let id = url.split("/console/payments/").nth(1).unwrap().split('?').next().unwrap().to_string();
    let p = app.payment(&v, &id).await;
    let receipts = p["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 2, "{p}");
    assert_eq!(p["net"], "2750000.50");
    assert_eq!(receipts[1]["payee"]["npwp"], "012345678901000", "NPWP kept as its digits");
    // A line without its account number is named, and what was typed stays in the form.
    fields[1] = ("idem", "k-bad");
    fields[7] = ("payees_csv", "Ahmad; 002; ; 1.500.000");
    let (status, _, page) = console_post(&app, &v.implementer, "/console/payments", &fields).await;
    assert_eq!(status, 422);
    assert!(page.contains("Daftar penerima, baris 1"), "{page}");
    assert!(page.contains("Ahmad; 002; ; 1.500.000"), "the pasted list is kept");

    // Returned, it is corrected on its own form: the list shows each payee where it stands.
    app.act(&v.implementer, &id, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &id, "return", Some("rekening Siti salah")).await.assert_status(200);
    let (status, form) = app.page(&v.implementer, &format!("/console/payments/{id}/edit")).await;
    assert_eq!(status, 200, "{form}");
    assert!(form.contains("rekening Siti salah"), "the note that returned it");
    let shown = "Ahmad; 002; 1234567890; 1.500.000\nSiti; 002; 9876543210; 1.250.000,50; 012345678901000";
    assert!(form.contains(shown), "the list as the implementer pasted it: {form}");
    assert!(!form.contains("name=\"payee_name\""), "no single payee's fields");
    let csrf = csrf_of(&form);
    let corrected = shown.replace("9876543210", "9876543299");
    let fields = [
        ("csrf", csrf.as_str()),
        ("description", "Upah harian Oktober"),
        ("fiscal_year", "2026"),
        ("activity_code", "02.03.10"),
        ("l0_account", "5.2.1.07"),
        ("l0_source", "DDS"),
        ("payees_csv", corrected.as_str()),
    ];
    let (status, url, page) =
        console_post(&app, &v.implementer, &format!("/console/payments/{id}/edit"), &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(url.contains("done=edit"), "{url}");
    let edited = app.payment(&v, &id).await;
    assert_eq!(edited["status"], "draft");
    let receipts = edited["receipts"].as_array().unwrap();
    assert_eq!(receipts[1]["payee"]["account_number"], "9876543299", "{edited}");
    assert_eq!(
        (receipts[0]["number"].clone(), edited["net"].clone()),
        (p["receipts"][0]["number"].clone(), p["net"].clone())
    );
    // A list of another length is the API's refusal, said on the form with the list kept.
    let one = "Ahmad; 002; 1234567890; 1.500.000";
    let mut fields = fields;
    fields[6] = ("payees_csv", one);
    let (status, _, page) = console_post(&app, &v.implementer, &format!("/console/payments/{id}/edit"), &fields).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains(one));
}

#[tokio::test]
async fn the_treasurer_pays_in_cash_and_the_implementer_records_the_spj_in_the_console() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "50000000.00", "DDS", "DDS-1").await.assert_status(201);
    app.post_txn(&v, &withdrawal("3000000.00")).await.assert_status(201);
    let small = spp("5.2.1.07", "02.03.10", "DDS", "1000000.00", serde_json::json!([]));
    let a = app.draft(&v, &small).await;
    app.approve_chain(&v, &a).await;
    // Without a regency limit the console offers no cash payment.
    let (_, page) = app.page(&v.treasurer, &format!("/console/payments/{a}")).await;
    assert!(!page.contains("Bayar tunai"), "no cash payments before the regency allows them");
    app.req(reqwest::Method::PATCH, &format!("/api/v1/regencies/{regency}"))
        .token(&app.admin_token)
        .json(&serde_json::json!({"cash_payment_limit": "2000000.00"}))
        .send()
        .await
        .assert_status(200);
    let (_, page) = app.page(&v.treasurer, &format!("/console/payments/{a}")).await;
    assert!(page.contains("Bayar tunai"), "{page}");
    // Before money moves the console asks, saying the amount and the payee.
    assert!(
        page.contains(
            "data-confirm=\"Bayar tunai: Rp 1.000.000,00 kepada CV Maju Bersama (123 Bank Kalbar / 1009876543). Lanjutkan?\""
        ),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let (_, url, done) =
        console_post(&app, &v.treasurer, &format!("/console/payments/{a}/pay_cash"), &[("csrf", &csrf)]).await;
    assert!(url.contains("done=pay_cash"), "{url}");
    assert!(done.contains("Dibayar tunai dari kas"), "{done}");
    assert_eq!(app.payment(&v, &a).await["status"], "paid");
    assert_eq!(app.balance(&v, "1.1.1.01").await, "2000000.00");

    // An advance of 2,000,000 paid by the bank; its SPJ in the console: 1,200,000 + 650,000 spent, 150,000 back.
    let advance = serde_json::json!({"kind": "advance", "activity_code": "02.03.10", "description": "Panjar swakelola",
        "payee": {"name": "Budi (Ketua TPK)", "bank_code": "123", "account_number": "2001002003"},
        "lines": [{"account_code": "5.2.1.07", "source": "DDS", "amount": "2000000.00"}]});
    let adv = app.pay_through(&v, &bank, &advance, "TRF-UM-1", "2026-04-10").await;
    let (_, page) = app.page(&v.implementer, &format!("/console/payments/{adv}")).await;
    assert!(page.contains("SPJ panjar"), "{page}");
    let csrf = csrf_of(&page);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("idem", "spj-1"),
        ("r0_payee", "Toko Sinar"),
        ("r0_description", "Semen"),
        ("r0_account", "5.2.1.07"),
        ("r0_amount", "1.200.000"),
        ("r1_payee", "Upah tukang"),
        ("r1_account", "5.2.1.07"),
        ("r1_amount", "600.000"),
        ("returned", "150.000"),
        ("value_date", "2026-04-20"),
    ];
    // Σ does not clear the advance: refused in words, and nothing typed is lost.
    let (status, _, page) =
        console_post(&app, &v.implementer, &format!("/console/payments/{adv}/accountability"), &fields).await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("value=\"Toko Sinar\"") && page.contains("value=\"150.000\""),
        "the form keeps what was typed"
    );
    fields[8] = ("r1_amount", "650.000");
    let (_, url, _) =
        console_post(&app, &v.implementer, &format!("/console/payments/{adv}/accountability"), &fields).await;
    assert!(url.contains("done=account"), "{url}");
    assert_eq!(app.payment(&v, &adv).await["status"], "accounted");
    // 50,000,000 − 3,000,000 − 2,000,000 + 150,000 back.
    assert_eq!(app.balance(&v, "1.1.1.02").await, "45150000.00");
    assert_eq!(app.balance(&v, "1.1.4.01").await, "0.00");
}

#[tokio::test]
async fn a_form_sent_after_the_session_ended_leads_back_to_its_page_after_sign_in() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let (_, form) = app.page(&v.implementer, "/console/payments/new").await;
    let csrf = csrf_of(&form);
    assert!(form.contains("data-keep=\""), "the drafting form keeps what is typed in the browser");
    app.post("/api/v1/auth/logout").token(&v.implementer).send().await;
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/console/payments", app.base))
        .header("cookie", format!("kd_session={}", v.implementer))
        .form(&[("csrf", csrf.as_str()), ("description", "Semen")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, "/console/login?next=/console/payments/new", "back to the form, not to a page not found");
}

#[tokio::test]
async fn a_request_beyond_its_budget_line_is_flagged_before_the_head_sees_it() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let over = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "150000000.00", serde_json::json!([]))).await;
    let (_, page) = app.page(&v.implementer, &format!("/console/payments/{over}")).await;
    assert!(page.contains("id=\"budget-warning\""), "{page}");
    assert!(page.contains("meminta Rp 150.000.000,00, tetapi sisa anggarannya Rp 100.000.000,00"), "{page}");
    // The account is named, as the annex names it.
    assert!(page.contains("Belanja"), "the account's name");
    let stray = app
        .draft(
            &v,
            &spp(
                "5.2.1.07",
                "02.03.10",
                "ADD",
                "1000000.00",
                serde_json::json!([{"tax": "PPH22", "amount": "15000.00"}]),
            ),
        )
        .await;
    let (_, page) = app.page(&v.secretary, &format!("/console/payments/{stray}")).await;
    assert!(page.contains("sumber ADD tidak ada di APBDes"), "{page}");
    assert!(page.contains("PPh 22"), "taxes by their names");
    // Within its line: no warning.
    let fine = app.draft(&v, &materials_spp()).await;
    let (_, page) = app.page(&v.implementer, &format!("/console/payments/{fine}")).await;
    assert!(!page.contains("id=\"budget-warning\""));
}

#[tokio::test]
async fn pages_are_compressed_for_browsers_that_ask() {
    let app = spawn_app().await;
    let r =
        app.client.get(format!("{}/console/login", app.base)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    // A client that does not ask gets it plain.
    let r = app.client.get(format!("{}/console/login", app.base)).send().await.unwrap();
    assert!(r.headers().get("content-encoding").is_none());
    assert!(r.text().await.unwrap().contains("<form"));
}

#[tokio::test]
async fn the_inspectors_village_page_pages_through_every_request() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let inspector = app.inspector(&regency, "inspektorat").await;
    let mut ids = Vec::new();
    for n in 0..55 {
        let mut body = spp("5.2.1.07", "02.03.10", "DDS", "100000.00", serde_json::json!([]));
        body["description"] = serde_json::json!(format!("Permintaan nomor {n:03}"));
        ids.push(app.draft(&v, &body).await);
    }
    let (status, first) = app.page(&inspector, &format!("/console/villages/{}", v.id)).await;
    assert_eq!(status, 200);
    assert!(first.contains("Permintaan nomor 054") && !first.contains("Permintaan nomor 004"), "the newest 50");
    let older = href_of(&first, "older").expect("a link to the older requests");
    let (_, second) = app.page(&inspector, &older).await;
    for n in 0..5 {
        assert!(second.contains(&format!("Permintaan nomor {n:03}")), "request {n} on the second page");
    }
    assert!(href_of(&second, "older").is_none(), "nothing older");
}

#[tokio::test]
async fn a_returned_request_is_corrected_on_its_own_form() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let p = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "9500000.00", serde_json::json!([]))).await;
    app.act(&v.implementer, &p, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &p, "return", Some("nilai melebihi penawaran")).await.assert_status(200);
    // The request's page offers the implementer "Ubah"; the secretary does not get it.
    let (_, page) = app.page(&v.implementer, &format!("/console/payments/{p}")).await;
    assert_eq!(href_of(&page, "edit-request"), Some(format!("/console/payments/{p}/edit")));
    let (_, page) = app.page(&v.secretary, &format!("/console/payments/{p}")).await;
    assert!(!page.contains("id=\"edit-request\""));
    // The form holds what the request asks for, under the secretary's note.
    let (status, form) = app.page(&v.implementer, &format!("/console/payments/{p}/edit")).await;
    assert_eq!(status, 200);
    assert!(form.contains("nilai melebihi penawaran"), "the note that returned it");
    assert!(form.contains("value=\"9.500.000\""), "the amount as people type it");
    assert!(form.contains(&format!("action=\"/console/payments/{p}/edit\"")));
    let csrf = csrf_of(&form);
    let original = app.payment(&v, &p).await;
    let payee = &original["payee"];
    let fields = [
        ("csrf", csrf.as_str()),
        ("description", original["description"].as_str().unwrap()),
        ("fiscal_year", "2026"),
        ("activity_code", "02.03.10"),
        ("payee_name", payee["name"].as_str().unwrap()),
        ("bank_code", payee["bank_code"].as_str().unwrap()),
        ("account_number", payee["account_number"].as_str().unwrap()),
        ("l0_account", "5.2.1.07"),
        ("l0_source", "DDS"),
        ("l0_amount", "5.500.000"),
    ];
    let (status, url, _) = console_post(&app, &v.implementer, &format!("/console/payments/{p}/edit"), &fields).await;
    assert_eq!(status, 200);
    assert!(url.contains("done=edit"), "{url}");
    let edited = app.payment(&v, &p).await;
    assert_eq!((edited["status"].as_str(), edited["gross"].as_str()), (Some("draft"), Some("5500000.00")));
    // Once submitted it is no longer editable here either.
    app.act(&v.implementer, &p, "submit", None).await.assert_status(200);
    let (status, _) = app.page(&v.implementer, &format!("/console/payments/{p}/edit")).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn the_books_offer_the_trial_balance_the_ledger_and_the_reconciliation() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.post_txn(&v, &receipt("1234567.00", "4.1.4.01")).await.assert_status(201);
    let inspector = app.inspector(&regency, "inspektorat").await;
    let (status, page) = app.page(&inspector, &format!("/console/villages/{}?year=2026", v.id)).await;
    assert_eq!(status, 200);
    for report in ["trial-balance", "general-ledger", "reconciliation"] {
        assert!(page.contains(&format!("report={report}&amp;village={}", v.id)), "{report} is offered");
    }
    for (report, extra) in [("trial-balance", ""), ("general-ledger", "&account=1.1.1.02"), ("reconciliation", "")] {
        for token in [&v.treasurer, &inspector] {
            let (status, body) = app
                .page(token, &format!("/console/download?report={report}&village={}&year=2026{extra}&format=csv", v.id))
                .await;
            assert_eq!(status, 200, "{report}: {body}");
            if report != "reconciliation" {
                assert!(body.contains("1234567"), "{report}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn the_treasurer_records_a_receipt_a_withdrawal_and_a_deposit_on_the_cash_page() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "10000000.00", "DDS", "DDS-1").await.assert_status(201);
    // Only the treasurer records cash; the others are told who does.
    let (status, page) = app.page(&v.implementer, "/console/cash").await;
    assert_eq!(status, 403);
    assert!(page.contains("dicatat oleh Kaur Keuangan"), "{page}");
    let (status, page) = app.page(&v.treasurer, "/console/cash").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("href=\"/console/cash\""), "the treasurer's header links the page");
    assert!(page.contains("4.1.4.01"), "the village's revenue accounts are offered: {page}");
    let csrf = csrf_of(&page);
    let form =
        |idem: &'static str, movement: &'static str, amount: &'static str, extra: Vec<(&'static str, &'static str)>| {
            let mut f = vec![
                ("csrf", csrf.clone()),
                ("idem", idem.into()),
                ("movement", movement.into()),
                ("value_date", "2026-04-14".into()),
                ("amount", amount.into()),
                ("description", "Uji kas".into()),
            ];
            f.extend(extra.into_iter().map(|(k, v)| (k, v.to_string())));
            f
        };
    let send = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        let token = v.treasurer.clone();
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            console_post(app, &token, "/console/cash", &pairs).await
        }
    };
    // A receipt without its revenue account, and an amount nobody can read, are explained; nothing is posted.
    let (status, _, page) = send(form("c0", "receipt", "satu juta", vec![])).await;
    assert_eq!(status, 422);
    assert!(page.contains("Isi jumlah dalam rupiah") && page.contains("pilih rekening pendapatannya"), "{page}");
    assert!(page.contains("value=\"Uji kas\""), "what was typed is kept: {page}");
    // Rent of the village hall, typed as people type it, into cash in hand; sent twice (a double tap), posted once.
    let receipt =
        form("c1", "receipt", "Rp 750.000", vec![("account", "4.1.4.01"), ("into", "1.1.1.01"), ("source", "PAD")]);
    let (_, url, page) = send(receipt.clone()).await;
    assert!(url.contains("/console/cash?done="), "{url}");
    assert!(page.contains("Tercatat sebagai transaksi nomor"), "{page}");
    send(receipt).await;
    assert_eq!(app.balance(&v, "1.1.1.01").await, "750000.00", "posted once");
    // A withdrawal of 2,000,000 and a deposit of 500,000 back.
    send(form("c2", "withdrawal", "2.000.000", vec![])).await;
    send(form("c3", "deposit", "500.000", vec![])).await;
    assert_eq!(app.balance(&v, "1.1.1.01").await, "2250000.00");
    assert_eq!(app.balance(&v, "1.1.1.02").await, "8500000.00");
    // Past the village's cash limit of 5,000,000 the API's rule answers, in words, and nothing moves.
    let (status, _, page) = send(form("c4", "withdrawal", "3.000.000", vec![])).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("role=\"alert\""), "{page}");
    assert_eq!(app.balance(&v, "1.1.1.01").await, "2250000.00");
    let (_, page) = app.page(&v.treasurer, "/console/cash").await;
    assert!(page.contains("2.250.000,00") && page.contains("8.500.000,00"), "the balances: {page}");
    assert_eq!(app.verify(&v).await["ok"], true);
}

#[tokio::test]
async fn the_treasurer_deposits_withheld_tax_from_the_console_and_its_page_shows_billing_codes_and_ntpns() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "50000000.00", "DDS", "DDS-1").await.assert_status(201);
    let (_, page) = app.page(&v.treasurer, "/console/tax-deposits/new").await;
    assert!(page.contains("id=\"nothing-owed\""), "nothing withheld yet: {page}");
    // A purchase withholding PPN 1,000,000 and PPh 22 166,500.
    app.pay_through(&v, &bank, &materials_spp(), "TRF-1", "2026-04-10").await;
    let (status, page) = app.page(&v.secretary, "/console/tax-deposits/new").await;
    assert_eq!(status, 403, "{page}");
    let (status, page) = app.page(&v.treasurer, "/console/tax-deposits/new").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"PPN_amount\"") && page.contains("value=\"1.000.000\""), "{page}");
    assert!(page.contains("value=\"166.500\""), "{page}");
    let csrf = csrf_of(&page);
    // A billing code of the wrong length is named with its tax; what was typed stays.
    let (status, _, page) = console_post(
        &app,
        &v.treasurer,
        "/console/tax-deposits",
        &[("csrf", &csrf), ("idem", "ssp-1"), ("PPN_amount", "1.000.000"), ("PPN_billing", "1234")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("kode billing harus 15 angka") && page.contains("value=\"1234\""), "{page}");
    let fields = [
        ("csrf", csrf.as_str()),
        ("idem", "ssp-2"),
        ("PPN_amount", "1.000.000"),
        ("PPN_billing", "820260400012345"),
        ("PPH22_amount", "166.500"),
        ("PPH22_billing", "820260400012346"),
    ];
    let (_, url, page) = console_post(&app, &v.treasurer, "/console/tax-deposits", &fields).await;
    assert!(url.contains("done=created"), "{url}");
    assert!(page.contains("820260400012345") && page.contains("820260400012346"), "the billing codes: {page}");
    console_post(&app, &v.treasurer, "/console/tax-deposits", &fields).await;
    let deposit = url.split("/console/payments/").nth(1).unwrap().split('?').next().unwrap().to_string();
    let listed = app.get(&format!("/api/v1/villages/{}/payments", v.id)).token(&v.treasurer).send().await;
    let items = listed.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.iter().filter(|p| p["kind"] == "tax_deposit").count(), 1, "a form sent twice drafts one SSP");
    // The rest of its chain, then the bank's NTPN per tax, shown on its page.
    app.act(&v.treasurer, &deposit, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &deposit, "verify", None).await.assert_status(200);
    app.act(&v.head, &deposit, "approve", None).await.assert_status(200);
    let (_, page) = app.page(&v.treasurer, "/console/tax-deposits/new").await;
    assert!(page.contains("Sedang disetor"), "{page}");
    app.act(&v.treasurer, &deposit, "release", None).await.assert_status(200);
    let t = app.transfer_of(&bank, &deposit).await;
    let result = serde_json::json!({"status": "paid", "bank_reference": "MPN-1", "value_date": "2026-04-15",
        "ntpns": {"PPN": "A1B2C3D4E5F6G7H8", "PPH22": "C1B2C3D4E5F6G7H8"}});
    app.bank_result(&bank, t["id"].as_str().unwrap(), "mpn-1", &result).await.assert_status(200);
    let (_, page) = app.page(&v.treasurer, &format!("/console/payments/{deposit}")).await;
    assert!(page.contains("A1B2C3D4E5F6G7H8") && page.contains("C1B2C3D4E5F6G7H8"), "the NTPNs: {page}");
    let (_, page) = app.page(&v.treasurer, "/console/tax-deposits/new").await;
    assert!(page.contains("id=\"nothing-owed\""), "all deposited: {page}");
}

#[tokio::test]
async fn the_apbdes_is_drafted_adopted_and_revised_in_the_console() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let year = YEAR;
    let (_, page) = app.page(&v.treasurer, &format!("/console/budget?year={year}")).await;
    assert!(page.contains("id=\"edit-budget\""), "the treasurer may draft: {page}");
    let (status, _) = app.page(&v.secretary, &format!("/console/budget/edit?year={year}")).await;
    assert_eq!(status, 403, "the secretary does not draft the budget");
    let (status, page) = app.page(&v.treasurer, &format!("/console/budget/edit?year={year}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("<datalist id=\"kegiatan\"") && page.contains("value=\"02.03.10\""), "kegiatan offered");
    let csrf = csrf_of(&page);
    let path = format!("/console/budget/edit?year={year}");
    // Row 2 has no source; row 3 spends without an activity, which the API refuses by the form's row number.
    let mut fields: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("rows", "4"),
        ("b0_account", "4.2.1.01"),
        ("b0_source", "DDS"),
        ("b0_amount", "500.000.000"),
        ("b1_account", "5.2.1.07"),
        ("b1_activity", "02.03.10"),
        ("b1_amount", "100.000.000"),
    ];
    let (status, _, page) = console_post(&app, &v.treasurer, &path, &fields).await;
    assert_eq!(status, 422);
    assert!(page.contains("Baris 2: pilih rekening dan sumber dana"), "{page}");
    fields.push(("b1_source", "DDS"));
    fields.extend([("b2_account", "5.2.2.01"), ("b2_source", "ADD"), ("b2_amount", "20.000.000")]);
    let (status, _, page) = console_post(&app, &v.treasurer, &path, &fields).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Baris 3 spends, so it needs an activity_code"), "{page}");
    fields.push(("b2_activity", "01.01.04"));
    let (_, url, page) = console_post(&app, &v.treasurer, &path, &fields).await;
    assert!(url.ends_with("done=saved"), "{url} {page}");
    assert!(page.contains("data-status=\"draft\"") && page.contains(">draf<"), "in Indonesian: {page}");
    assert!(!page.contains("id=\"adopt-budget\""), "only the head adopts");
    // The head adopts, asked once more with the totals.
    let (_, page) = app.page(&v.head, &format!("/console/budget?year={year}")).await;
    assert!(page.contains("Tetapkan APBDes 2026: pendapatan Rp 500.000.000,00, belanja Rp 120.000.000,00."), "{page}");
    let csrf = csrf_of(&page);
    let (_, url, page) =
        console_post(&app, &v.head, &format!("/console/budget/adopt?year={year}"), &[("csrf", &csrf)]).await;
    assert!(url.ends_with("done=adopted"), "{url}");
    assert!(page.contains(">ditetapkan<"), "{page}");
    let (status, _) = app.page(&v.treasurer, &format!("/console/budget/edit?year={year}")).await;
    assert_eq!(status, 403, "an adopted budget is the head's to revise");
    // The revision: the road line raised to 150,000,000 under the regulation's name.
    let (_, page) = app.page(&v.head, &format!("/console/budget/edit?year={year}")).await;
    assert!(page.contains("value=\"100.000.000\""), "the lines as they stand: {page}");
    let csrf = csrf_of(&page);
    let revision = [
        ("csrf", csrf.as_str()),
        ("rows", "3"),
        ("note", "Perdes 5/2026 tentang APBDes Perubahan"),
        ("b0_account", "4.2.1.01"),
        ("b0_source", "DDS"),
        ("b0_amount", "500.000.000"),
        ("b1_account", "5.2.1.07"),
        ("b1_activity", "02.03.10"),
        ("b1_source", "DDS"),
        ("b1_amount", "150.000.000"),
        ("b2_account", "5.2.2.01"),
        ("b2_activity", "01.01.04"),
        ("b2_source", "ADD"),
        ("b2_amount", "20.000.000"),
    ];
    let (_, url, _) = console_post(&app, &v.head, &path, &revision).await;
    assert!(url.ends_with("done=revised"), "{url}");
    let b = app.get(&format!("/api/v1/villages/{}/budgets/{year}", v.id)).token(&v.head).send().await;
    let b = b.assert_status(200);
    assert_eq!(b["version"], 2, "{b}");
    assert_eq!(line(b, "5.2.1.07")["ceiling"], "150000000.00");
    assert_eq!(app.verify(&v).await["ok"], true, "the budget's facts are chained as the API's are");
}
