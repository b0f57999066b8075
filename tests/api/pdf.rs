//! Printed books (`?format=pdf`): a PDF that parses, in Bahasa Indonesia, with the figures to the rupiah in the
//! Indonesian form, the table heading repeated on every page, page numbers, and the signature block with the
//! officials' names. The files are left in target/pdf-samples/ to look at.

use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::json;

pub fn pages_text(bytes: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(bytes).expect("the PDF parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    pages.iter().map(|p| doc.extract_text(&[*p]).expect("a page's text")).collect()
}

pub async fn pdf(app: &TestApp, token: &str, path: &str, sample: &str) -> Vec<String> {
    let r = app.client.get(format!("{}{path}", app.base)).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{path}");
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.headers()["content-disposition"].to_str().unwrap().ends_with(".pdf\""));
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pdf-samples");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(sample), &bytes).unwrap();
    pages_text(&bytes)
}

/// Text extraction may break a line where the PDF places words separately: compare without white space.
pub fn squeezed(s: &str) -> String {
    s.split_whitespace().collect()
}

#[tokio::test]
async fn books_print_with_headings_on_every_page_and_signatures() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.req(reqwest::Method::PATCH, &format!("/api/v1/villages/{}", v.id))
        .token(&app.admin_token)
        .json(&json!({"head_name": "H. Abdul Rahman", "treasurer_name": "Siti Aminah"}))
        .send()
        .await
        .assert_status(200);
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "300000000.00", "DDS", "DDS-1").await.assert_status(201);
    app.pay_through(&v, &bank, &materials_spp(), "TRF-1", "2026-04-10").await;
    // Enough receipts for the book to run over several pages.
    for i in 1..=70 {
        app.post_txn(&v, &receipt(&format!("{i}000.00"), "4.1.4.01")).await.assert_status(201);
    }
    let pages = pdf(
        &app,
        &v.secretary,
        &format!("/api/v1/villages/{}/reports/cash-book?year=2026&format=pdf", v.id),
        "cash-book.pdf",
    )
    .await;
    let n = pages.len();
    assert!(n >= 2, "{n} page(s)");
    let first = squeezed(&pages[0]);
    assert!(first.contains("BUKUKASUMUM"), "{}", pages[0]);
    assert!(first.contains("Desa61.12.01.2001"), "{}", pages[0]);
    for (i, page) in pages.iter().enumerate() {
        let p = squeezed(page);
        assert!(p.contains(&format!("Halaman{}dari{n}", i + 1)), "page {}: {page}", i + 1);
        if i > 0 && !p.starts_with("Mengetahui") {
            assert!(p.contains("NoBukti") && p.contains("Uraian"), "the heading repeats on page {}: {page}", i + 1);
        }
    }
    // 300,000,000 + Σ 1,000..70,000 (2,485,000) - 9,933,500 paid out = 292,551,500.
    let all = squeezed(&pages.concat());
    assert!(all.contains("292.551.500,00"), "the closing balance in Indonesian form");
    assert!(all.contains("11.100.000,00"), "the payment's gross");
    let last = squeezed(&pages[n - 1]);
    for s in ["KepalaDesa", "KaurKeuangan", "H.AbdulRahman", "SitiAminah"] {
        assert!(last.contains(s), "{s} in the signature block: {}", pages[n - 1]);
    }

    // The report in the annex's structure: bidang 2 → sub-bidang 2.3 → kegiatan 02.03.10 → jenis 5.2.1, sub-totalled.
    let json = app.get(&format!("/api/v1/villages/{}/reports/realisation?year=2026", v.id)).token(&v.head).send().await;
    let structure = json.assert_status(200)["structure"]["rows"].as_array().unwrap().clone();
    let find = |level: &str, code: &str| {
        structure
            .iter()
            .find(|r| r["level"] == level && r["code"] == code)
            .unwrap_or_else(|| panic!("{level} {code}"))
            .clone()
    };
    for (level, code) in [("bidang", "2"), ("sub_bidang", "2.3"), ("kegiatan", "02.03.10"), ("jenis", "5.2.1")] {
        assert_eq!(find(level, code)["realised"], "11100000.00", "{level} {code}");
    }
    assert_eq!(find("kelompok", "4.2")["realised"], "300000000.00");
    assert_eq!(find("akun", "4")["realised"], "302485000.00");
    let lra = pdf(
        &app,
        &v.head,
        &format!("/api/v1/villages/{}/reports/realisation?year=2026&format=pdf", v.id),
        "realisation.pdf",
    )
    .await;
    let lra = squeezed(&lra.concat());
    assert!(lra.contains("DanaDesa") && lra.contains("300.000.000,00") && lra.contains("500.000.000,00"), "{lra}");

    // Without recorded names the block leaves a line to write on; outside the scope, nothing.
    let other = app.create_village(&regency, "61.12.01.2002", "10000000.00").await;
    let blank = pdf(
        &app,
        &other.treasurer,
        &format!("/api/v1/villages/{}/reports/bank-book?year=2026&format=pdf", other.id),
        "bank-book-empty.pdf",
    )
    .await;
    assert!(squeezed(&blank.concat()).contains("(......"), "{blank:?}");
    let r = app
        .get(&format!("/api/v1/villages/{}/reports/cash-book?year=2026&format=pdf", v.id))
        .token(&other.head)
        .send()
        .await;
    r.assert_problem(404, "not_found");
    let r = app
        .get(&format!("/api/v1/villages/{}/reports/cash-book?year=2026&format=doc", v.id))
        .token(&v.head)
        .send()
        .await;
    r.assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn the_spp_prints_with_its_taxes_amount_in_words_approvals_and_kuitansi() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.req(reqwest::Method::PATCH, &format!("/api/v1/villages/{}", v.id))
        .token(&app.admin_token)
        .json(&json!({"name": "Sungai Raya", "head_name": "H. Abdul Rahman", "treasurer_name": "Siti Aminah"}))
        .send()
        .await
        .assert_status(200);
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "300000000.00", "DDS", "DDS-1").await.assert_status(201);
    let p = app.pay_through(&v, &bank, &materials_spp(), "TRF-1", "2026-04-10").await;
    let pages = pdf(&app, &v.treasurer, &format!("/api/v1/payments/{p}/document?format=pdf"), "spp.pdf").await;
    let all = squeezed(&pages.concat());
    for s in [
        "SURATPERMINTAANPEMBAYARAN(SPP)",
        "0001/SPP/61.12.01.2001/2026",
        "02.03.10Pembangunan/Rehabilitasi/Peningkatan/PengerasanJalanDesa",
        "5.2.1.07",
        "BelanjaBahan/Material",
        "11.100.000,00",
        "PPN",
        "166.500,00",
        "9.933.500,00",
        "Sembilanjutasembilanratustigapuluhtigaribulimaratusrupiah",
        "Kuitansi",
        "KaurKeuanganSungaiRaya",
        "CVMajuBersama",
        "KepalaDesaSungaiRaya",
        "H.AbdulRahman",
        "SitiAminah",
        "Yangmenerima",
    ] {
        assert!(all.contains(s), "{s} missing from the SPP: {}", pages.concat());
    }
    // The same document as JSON, for machines.
    let doc = app.get(&format!("/api/v1/payments/{p}/document")).token(&v.head).send().await;
    let doc = doc.assert_status(200).clone();
    assert_eq!(doc["payment"]["rows"][0]["amount"], "11100000.00", "{doc}");
    let regency2 = app.create_regency("61.13").await;
    let stranger = app.create_village(&regency2, "61.13.01.2001", "10000000.00").await;
    app.get(&format!("/api/v1/payments/{p}/document?format=pdf"))
        .token(&stranger.head)
        .send()
        .await
        .assert_problem(404, "not_found");
}
