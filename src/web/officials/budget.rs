//! The budget page: each line's ceiling, committed, realised and available, with bars; and the APBDes editor
//! (`/console/budget/edit`): the treasurer or the head drafts the year's budget, the head adopts it and later
//! revises it (APBDes Perubahan, with the regulation's note), each through the API's own path.

use super::{official, State};
use crate::domain::accounts::{AccountClass, SOURCES};
use crate::domain::budget::BudgetStatus;
use crate::domain::catalogue::{api_activity_code, catalogue, Level};
use crate::domain::money::{AmountInput, Money};
use crate::domain::roles::Role;
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::payments;
use crate::http::views::{BudgetLineRequest, BudgetRequest};
use crate::store::rows::{BudgetPositionRow, BudgetRecord, VillageRow};
use crate::web::layout::{budget_bar, error_alert, legend, year_form};
use crate::web::session::{csrf_refused, to_login};
use crate::web::{
    api_error_page, blocking, error_page, money, normalise_amount, page, redirect, year_param, Ctx, Form,
};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

pub async fn budget(req: HttpRequest, state: State) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let (who, village) = match official(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let year = year_param(&ctx);
    let budget = match load(&state, &village, year).await {
        Ok(b) => b,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let mode = editing(&who, budget.as_ref());
    let draft = budget.as_ref().filter(|b| b.current.status == BudgetStatus::Draft);
    let body = html! {
        h1 { (ctx.t("budget_title")) " " (year) " — " (village.name) }
        (year_form(&ctx, "/console/budget", year))
        @if let Some(done) = ctx.q("done") {
            p.ok role="status" #budget-done { (ctx.t(match done { "adopted" => "budget_adopted", "revised" => "budget_revised", _ => "budget_saved" })) }
        }
        @match mode {
            Some(Editing::Draft) => p { a.button #edit-budget href={"/console/budget/edit?year=" (year)} { (ctx.t(if budget.is_some() { "budget_edit_link" } else { "budget_new_link" })) } },
            Some(Editing::Revision) => p { a.button #revise-budget href={"/console/budget/edit?year=" (year)} { (ctx.t("budget_revise_link")) } },
            None => {},
        }
        @if let (Some(b), Role::Head, Some(s)) = (draft, who.role(), &ctx.session) {
            form.inline method="post" action={"/console/budget/adopt?year=" (year)} data-confirm=(adopt_confirmation(&ctx, b, year)) data-sending=(ctx.t("sending")) {
                input type="hidden" name="csrf" value=(s.csrf);
                button.primary #adopt-budget type="submit" { (ctx.t("budget_adopt")) }
            }
        }
        @match &budget {
            None => p.notice role="status" { (ctx.t("no_budget")) },
            Some(b) => {
                p { (ctx.t("budget_status")) ": " strong #budget-status data-status=(b.current.status) { (ctx.t(status_word(b.current.status))) } " · " (ctx.t("version")) " " (b.current.version) }
                (legend(&ctx))
                (budget_table(&ctx, &shown_positions(b)))
            }
        }
    };
    page(&ctx, StatusCode::OK, ctx.t("budget_title"), body)
}

/// The positions to show: the adopted budget's, or a draft's lines with nothing used yet.
fn shown_positions(b: &BudgetRecord) -> Vec<BudgetPositionRow> {
    if b.current.status != BudgetStatus::Draft {
        return b.positions.clone();
    }
    b.lines
        .iter()
        .map(|l| BudgetPositionRow {
            village_id: l.village_id.clone(),
            year: l.year,
            account_code: l.account_code.clone(),
            activity_code: l.activity_code.clone(),
            source: l.source.clone(),
            activity_name: l.activity_name.clone(),
            ceiling: l.ceiling,
            committed: 0,
            realised: 0,
        })
        .collect()
}

fn status_word(s: BudgetStatus) -> &'static str {
    match s {
        BudgetStatus::Draft => "budget_status_draft",
        BudgetStatus::Adopted => "budget_status_adopted",
        BudgetStatus::Superseded => "budget_status_superseded",
    }
}

/// What adopting does, asked once more: the year and the totals of revenue, spending and financing.
fn adopt_confirmation(ctx: &Ctx, b: &BudgetRecord, year: i32) -> String {
    let total = |pred: fn(AccountClass) -> bool| -> i64 {
        b.lines
            .iter()
            .filter(|l| crate::domain::accounts::class_of_code(&l.account_code).is_some_and(pred))
            .map(|l| l.ceiling)
            .sum()
    };
    let revenue = total(|c| c == AccountClass::Revenue);
    let spending = total(|c| c == AccountClass::Expenditure);
    ctx.t("budget_adopt_confirm")
        .replace("{year}", &year.to_string())
        .replace("{revenue}", &money(ctx.lang, revenue))
        .replace("{spending}", &money(ctx.lang, spending))
}

/// The budget's lines as a table with a bar each (also on the inspector's village page).
pub fn budget_table(ctx: &Ctx, positions: &[BudgetPositionRow]) -> Markup {
    html! {
        div.scroll role="region" aria-label=(ctx.t("budget_title")) tabindex="0" {
            table.budget {
                caption { (ctx.t("budget_title")) }
                thead { tr {
                    th scope="col" { (ctx.t("col_account")) " · " (ctx.t("col_activity")) " · " (ctx.t("col_source")) }
                    th scope="col" class="num" { (ctx.t("col_ceiling")) }
                    th scope="col" class="num" { (ctx.t("col_committed")) }
                    th scope="col" class="num" { (ctx.t("col_realised")) }
                    th scope="col" class="num" { (ctx.t("col_available")) }
                } }
                tbody {
                    @for p in positions {
                        tr {
                            th scope="row" {
                                span.mono { (p.account_code) }
                                @if !p.activity_code.is_empty() { " · " span.mono { (p.activity_code) } }
                                " · " (p.source)
                                @if let Some(n) = &p.activity_name { br; small { (n) } }
                                (budget_bar(ctx, p.ceiling, p.committed, p.realised))
                            }
                            td.num { (money(ctx.lang, p.ceiling)) }
                            td.num { (money(ctx.lang, p.committed)) }
                            td.num { (money(ctx.lang, p.realised)) }
                            td.num { strong { (money(ctx.lang, p.ceiling - p.committed - p.realised)) } }
                        }
                    }
                }
                // The year's totals by what the lines are: revenue (4), spending (5), financing received (6.1) and
                // spent (6.2) are not added together.
                tfoot {
                    @for (prefix, label) in [("4.", "budget_total_revenue"), ("5.", "budget_total_spending"), ("6.1.", "budget_total_financing_in"), ("6.2.", "budget_total_financing_out")] {
                        @let lines: Vec<&BudgetPositionRow> = positions.iter().filter(|p| p.account_code.starts_with(prefix)).collect();
                        @if !lines.is_empty() {
                            @let sum = |f: fn(&BudgetPositionRow) -> i64| lines.iter().map(|p| f(p)).sum::<i64>();
                            tr {
                                th scope="row" { (ctx.t(label)) }
                                td.num { (money(ctx.lang, sum(|p| p.ceiling))) }
                                td.num { (money(ctx.lang, sum(|p| p.committed))) }
                                td.num { (money(ctx.lang, sum(|p| p.realised))) }
                                td.num { strong { (money(ctx.lang, sum(|p| p.ceiling - p.committed - p.realised))) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Blank rows the editor offers after the budget's own lines (save to get more).
const BLANK_ROWS: usize = 5;

/// What the editor does with the year's budget: draft it (none yet, or a draft) or revise it (adopted: the head's
/// APBDes Perubahan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Editing {
    Draft,
    Revision,
}

/// What `who` may do to the year's budget in its state, if anything: the API's roles (a draft by the treasurer or
/// the head, a revision by the head).
fn editing(who: &Principal, budget: Option<&BudgetRecord>) -> Option<Editing> {
    let status = budget.map(|b| b.current.status);
    match (who.role(), status) {
        (Role::Treasurer | Role::Head, None | Some(BudgetStatus::Draft)) => Some(Editing::Draft),
        (Role::Head, Some(BudgetStatus::Adopted)) => Some(Editing::Revision),
        _ => None,
    }
}

/// The year's budget, or none.
async fn load(state: &State, village: &VillageRow, year: i32) -> Result<Option<BudgetRecord>, ApiError> {
    let db = state.db.clone();
    let vid = village.id.clone();
    blocking(move || db.get_budget(&vid, year)).await
}

/// The accounts a budget line may be on: the village's revenue, spending and financing accounts.
async fn budget_accounts(state: &State, village: &VillageRow) -> Result<Vec<(String, String)>, ApiError> {
    let db = state.db.clone();
    let vid = village.id.clone();
    let accounts = blocking(move || db.accounts(&vid)).await?;
    Ok(accounts
        .into_iter()
        .filter(|a| {
            matches!(
                a.class,
                AccountClass::Revenue
                    | AccountClass::Expenditure
                    | AccountClass::FinancingReceipt
                    | AccountClass::FinancingExpenditure
            )
        })
        .map(|a| (a.code, a.name))
        .collect())
}

/// The form's rows: the budget's lines as they stand (or as sent), then blank ones.
fn rows_of(form: &Form, budget: Option<&BudgetRecord>) -> Vec<[String; 5]> {
    let sent: usize = form.trimmed("rows").parse().unwrap_or(0);
    if sent > 0 {
        return (0..sent.min(MAX_ROWS))
            .map(|i| {
                ["account", "activity", "activity_name", "source", "amount"]
                    .map(|f| form.get(&format!("b{i}_{f}")).to_string())
            })
            .collect();
    }
    let mut rows: Vec<[String; 5]> = budget
        .map(|b| {
            b.lines
                .iter()
                .map(|l| {
                    [
                        l.account_code.clone(),
                        l.activity_code.clone(),
                        l.activity_name.clone().unwrap_or_default(),
                        l.source.clone(),
                        super::drafting::typed_amount(l.ceiling),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    rows.extend((0..BLANK_ROWS).map(|_| Default::default()));
    rows
}

/// A budget of more rows than this is edited through the API (a village's APBDes has some tens of lines).
const MAX_ROWS: usize = 400;

/// What the editor shows: the year's budget, what is done to it, and the accounts a line may be on.
#[derive(Clone, Copy)]
struct Editor<'a> {
    budget: Option<&'a BudgetRecord>,
    mode: Editing,
    accounts: &'a [(String, String)],
    year: i32,
}

fn editor(ctx: &Ctx, form: &Form, ed: Editor<'_>, errors: &[String], api_error: Option<&ApiError>) -> Markup {
    let Editor { budget, mode, accounts, year } = ed;
    let Some(s) = &ctx.session else { return html! {} };
    let rows = rows_of(form, budget);
    let first_blank = rows.iter().position(|r| r.iter().all(String::is_empty)).unwrap_or(rows.len());
    let sources: Vec<&str> = SOURCES.iter().map(|(s, _)| *s).collect();
    html! {
        h1 { (ctx.t(if mode == Editing::Draft { "budget_edit_title" } else { "budget_revise_title" })) " " (year) }
        p { (ctx.t(if mode == Editing::Draft { "budget_edit_intro" } else { "budget_revise_intro" })) }
        @if !errors.is_empty() {
            div.alert role="alert" #form-errors {
                p { strong { (ctx.t("form_errors")) } }
                ul { @for e in errors { li { (e) } } }
            }
        }
        @if let Some(e) = api_error { (error_alert(ctx, e)) }
        datalist #kegiatan {
            @for a in catalogue().activities.iter().filter(|a| a.level == Level::Kegiatan) {
                option value=(api_activity_code(&a.code)) { (a.name) }
            }
        }
        form.stack method="post" action={"/console/budget/edit?year=" (year)} novalidate
            data-keep={"budget-" (year) "-" (s.principal.id())} data-sending=(ctx.t("sending")) {
            input type="hidden" name="csrf" value=(s.csrf);
            input type="hidden" name="rows" value=(rows.len());
            @if mode == Editing::Revision {
                p { label for="note" { (ctx.t("budget_revision_note")) }
                    input #note type="text" name="note" maxlength="500" value=(form.get("note")) required; }
            }
            // One folded line per budget line, its summary what it says (account, kegiatan, source, ceiling): a
            // budget of some tens of lines is a screen or two on a phone, and a tap opens the line to edit it. All
            // are open when the form came back with a mistake, and the first empty one is open for a new line.
            @for (i, r) in rows.iter().enumerate() {
                @let filled = r.iter().any(|x| !x.is_empty());
                @let name = accounts.iter().find(|(code, _)| *code == r[0]).map(|(_, n)| n.as_str());
                details.line open[!errors.is_empty() || api_error.is_some() || (!filled && i == first_blank)] {
                    summary {
                        strong { (ctx.t("line_n")) " " (i + 1) }
                        @if filled {
                            " " (r[0]) @if let Some(n) = name { " " (n) }
                            @if !r[1].is_empty() { " · " (r[1]) }
                            " · " (r[3]) " · " span.amount { "Rp\u{a0}" (r[4]) }
                        } @else {
                            " " (ctx.t("budget_blank_line"))
                        }
                    }
                    div.row {
                        p { label for={"b" (i) "_account"} { (ctx.t("col_account")) }
                            select id={"b" (i) "_account"} name={"b" (i) "_account"} {
                                option value="" { (ctx.t("choose")) }
                                @for (code, name) in accounts {
                                    option value=(code) selected[*code == r[0]] { (code) " — " (name) }
                                }
                            } }
                        p { label for={"b" (i) "_activity"} { (ctx.t("col_activity")) " " small { (ctx.t("budget_activity_hint")) } }
                            input id={"b" (i) "_activity"} type="text" name={"b" (i) "_activity"} list="kegiatan"
                                inputmode="decimal" autocomplete="off" value=(r[1]); }
                        p { label for={"b" (i) "_activity_name"} { (ctx.t("budget_activity_name")) }
                            input id={"b" (i) "_activity_name"} type="text" name={"b" (i) "_activity_name"} maxlength="200" value=(r[2]); }
                        p { label for={"b" (i) "_source"} { (ctx.t("col_source")) }
                            select id={"b" (i) "_source"} name={"b" (i) "_source"} {
                                option value="" { (ctx.t("choose")) }
                                @for code in &sources { option value=(code) selected[*code == r[3]] { (code) } }
                            } }
                        p { label for={"b" (i) "_amount"} { (ctx.t("col_ceiling")) " (Rp)" }
                            input id={"b" (i) "_amount"} type="text" name={"b" (i) "_amount"} inputmode="decimal"
                                autocomplete="off" value=(r[4]); }
                    }
                }
            }
            p.actions {
                button.primary type="submit" {
                    (ctx.t(if mode == Editing::Draft { "budget_save_draft" } else { "budget_save_revision" }))
                }
            }
        }
    }
}

/// The budget the form asks for, as the API's request; a row left blank is no line. `rows` maps the request's
/// lines back to the form's row numbers (1-based), for the API's messages.
fn read_editor(ctx: &Ctx, form: &Form) -> Result<(BudgetRequest, Vec<usize>), Vec<String>> {
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    for (i, r) in rows_of(form, None).iter().enumerate() {
        if r.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let row = i + 1;
        let (account, source) = (r[0].trim(), r[3].trim());
        let amount = normalise_amount(&r[4]).and_then(|a| Money::parse(&a).ok());
        let Some(amount) = amount.filter(|_| !account.is_empty() && !source.is_empty()) else {
            errors.push(format!("{} {row}: {}", ctx.t("line_n"), ctx.t("budget_err_row")));
            continue;
        };
        let text = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        lines.push(BudgetLineRequest {
            account_code: account.to_string(),
            activity_code: text(&r[1]),
            activity_name: text(&r[2]),
            source: source.to_string(),
            amount: AmountInput(Ok(amount)),
        });
        rows.push(row);
    }
    if lines.is_empty() && errors.is_empty() {
        errors.push(ctx.t("budget_err_empty").to_string());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let note = Some(form.trimmed("note").to_string()).filter(|n| !n.is_empty());
    Ok((BudgetRequest { lines, note }, rows))
}

/// The API's answer with its `lines[i]` named as the form's rows (`Baris 3`).
fn with_rows(ctx: &Ctx, mut e: ApiError, rows: &[usize]) -> ApiError {
    for (i, row) in rows.iter().enumerate().rev() {
        e.detail = e.detail.replace(&format!("lines[{i}]"), &format!("{} {row}", ctx.t("line_n")));
    }
    e
}

pub async fn edit_budget(req: HttpRequest, state: State) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let (who, village) = match official(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let year = year_param(&ctx);
    let (budget, accounts) = match (load(&state, &village, year).await, budget_accounts(&state, &village).await) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(e), _) | (_, Err(e)) => return api_error_page(&ctx, &e),
    };
    let Some(mode) = editing(&who, budget.as_ref()) else {
        return error_page(&ctx, StatusCode::FORBIDDEN, ctx.t("error_title"), ctx.t("budget_edit_forbidden"));
    };
    let ed = Editor { budget: budget.as_ref(), mode, accounts: &accounts, year };
    let body = editor(&ctx, &Form::parse(b""), ed, &[], None);
    page(&ctx, StatusCode::OK, ctx.t("budget_title"), body)
}

pub async fn save_budget(req: HttpRequest, state: State, body: web::Bytes) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let form = Form::parse(&body);
    let (who, village) = match official(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(s) = &ctx.session else { return to_login(&req) };
    if !s.csrf_ok(&form) {
        return csrf_refused(&ctx);
    }
    let year = year_param(&ctx);
    let (budget, accounts) = match (load(&state, &village, year).await, budget_accounts(&state, &village).await) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(e), _) | (_, Err(e)) => return api_error_page(&ctx, &e),
    };
    let Some(mode) = editing(&who, budget.as_ref()) else {
        return error_page(&ctx, StatusCode::FORBIDDEN, ctx.t("error_title"), ctx.t("budget_edit_forbidden"));
    };
    let ed = Editor { budget: budget.as_ref(), mode, accounts: &accounts, year };
    let again = |status: StatusCode, errors: &[String], e: Option<&ApiError>| {
        page(&ctx, status, ctx.t("budget_title"), editor(&ctx, &form, ed, errors, e))
    };
    let (request, rows) = match read_editor(&ctx, &form) {
        Ok(r) => r,
        Err(errors) => return again(StatusCode::UNPROCESSABLE_ENTITY, &errors, None),
    };
    let saved = match mode {
        Editing::Draft => payments::draft_budget(&state, &who, &village.id, year, request).await,
        Editing::Revision => payments::revise_adopted_budget(&state, &who, &village.id, year, request).await,
    };
    match saved {
        Ok(_) => redirect(&format!(
            "/console/budget?year={year}&done={}",
            if mode == Editing::Draft { "saved" } else { "revised" }
        )),
        Err(e) => {
            let status = StatusCode::from_u16(e.problem().status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            again(status, &[], Some(&with_rows(&ctx, e, &rows)))
        }
    }
}

/// The head adopts the year's draft (`POST /console/budget/adopt?year=`).
pub async fn adopt_budget(req: HttpRequest, state: State, body: web::Bytes) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let form = Form::parse(&body);
    let (who, village) = match official(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(s) = &ctx.session else { return to_login(&req) };
    if !s.csrf_ok(&form) {
        return csrf_refused(&ctx);
    }
    let year = year_param(&ctx);
    match payments::adopt_draft_budget(&state, &who, &village.id, year).await {
        Ok(_) => redirect(&format!("/console/budget?year={year}&done=adopted")),
        Err(e) => api_error_page(&ctx, &e),
    }
}
