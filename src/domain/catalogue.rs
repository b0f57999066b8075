//! The national classification of Permendagri 20/2018 (its annex), as data: the revenue, spending and financing
//! accounts (`rekening.csv`: akun → kelompok → jenis → objek) and the activities (`kegiatan.csv`: bidang →
//! sub-bidang → kegiatan). The files in `reference/permendagri-20-2018/` are the reference's files, byte for byte (a test
//! compares them with `../shared/spec` when it is there); nothing here retypes them.
//!
//! Rules that follow from the annex:
//! - every village's chart holds every objek, with the annex's name (`accounts::standard_chart`);
//! - a village may add its own objek in the 90–99 slots of a jenis that has a "lain-lain" slot, and its own kegiatan
//!   in the 90–99 slots of a sub-bidang that has one (the annex lists such a slot under its `.90` code);
//! - the API writes an annex activity `2.3.10` as `02.03.10` (`BB.SS.KK`).

use std::sync::OnceLock;

const REKENING: &str = include_str!("../../reference/permendagri-20-2018/rekening.csv");
const KEGIATAN: &str = include_str!("../../reference/permendagri-20-2018/kegiatan.csv");

text_enum! {
    /// A row's level in the annex: akun → kelompok → jenis → objek for accounts, bidang → sub_bidang → kegiatan for
    /// activities.
    pub enum Level {
        Akun = "akun",
        Kelompok = "kelompok",
        Jenis = "jenis",
        Objek = "objek",
        Bidang = "bidang",
        SubBidang = "sub_bidang",
        Kegiatan = "kegiatan",
    }
}

/// One row of the annex.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Item {
    /// The code as the annex writes it (`5.2.1.07`, `2.3.10`).
    pub code: String,
    pub level: Level,
    /// The code one level up; `None` at the top.
    pub parent: Option<String>,
    pub name: String,
    /// True on the "lain-lain" row listed under `.90`: the village may number its own items 90–99 there.
    pub open_slot: bool,
}

pub struct Catalogue {
    pub accounts: Vec<Item>,
    pub activities: Vec<Item>,
}

/// The annex, parsed once. The files are compiled in, so a malformed row is a defect of the build: the tests parse
/// them, and this panics only if they were edited into a broken state.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| Catalogue {
        accounts: parse(REKENING).expect("rekening.csv parses"),
        activities: parse(KEGIATAN).expect("kegiatan.csv parses"),
    })
}

impl Catalogue {
    pub fn account(&self, code: &str) -> Option<&Item> {
        self.accounts.iter().find(|i| i.code == code)
    }

    pub fn activity(&self, annex_code: &str) -> Option<&Item> {
        self.activities.iter().find(|i| i.code == annex_code)
    }

    /// The objek accounts: the leaves every chart holds.
    pub fn objek(&self) -> impl Iterator<Item = &Item> {
        self.accounts.iter().filter(|i| i.level == Level::Objek)
    }
}

/// The slot a code `X.Y.Z.NN` (NN 90–99) occupies: the jenis (or sub-bidang) it belongs to, when that parent has a
/// "lain-lain" slot in the annex.
fn open_slot_parent<'a>(items: &'a [Item], code: &str) -> Option<&'a Item> {
    let (parent, last) = code.rsplit_once('.')?;
    let n: u32 = (last.len() == 2 && last.bytes().all(|b| b.is_ascii_digit())).then(|| last.parse().ok())??;
    if !(90..=99).contains(&n) {
        return None;
    }
    let slot = format!("{parent}.90");
    items.iter().find(|i| i.code == slot && i.open_slot)?;
    items.iter().find(|i| i.code == parent)
}

/// Whether a village may add `code` as its own objek: a 90–99 slot of a jenis with a "lain-lain" slot.
pub fn is_own_account_slot(code: &str) -> bool {
    open_slot_parent(&catalogue().accounts, code).is_some_and(|p| p.level == Level::Jenis)
}

/// The annex code of an API activity code: `02.03.10` → `2.3.10`. `None` unless it is `BB.SS.KK` in digits.
pub fn annex_activity_code(api_code: &str) -> Option<String> {
    let parts: Vec<&str> = api_code.split('.').collect();
    if parts.len() != 3 || !parts.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let n = |p: &str| p.trim_start_matches('0').to_string();
    let (b, s) = (n(parts[0]), n(parts[1]));
    if b.is_empty() || s.is_empty() {
        return None;
    }
    Some(format!("{b}.{s}.{}", parts[2]))
}

/// The API code of an annex activity code: `2.3.10` → `02.03.10`.
pub fn api_activity_code(annex_code: &str) -> String {
    annex_code
        .split('.')
        .map(|p| if p.len() < 2 { format!("{p:0>2}") } else { p.to_string() })
        .collect::<Vec<_>>()
        .join(".")
}

/// What an API activity code names: an annex kegiatan, or a village's own item in a sub-bidang's 90–99 slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityRef {
    Annex(&'static Item),
    /// A village's own kegiatan: the sub-bidang it sits in.
    OwnSlot {
        sub_bidang: &'static Item,
    },
}

impl ActivityRef {
    /// The name to show: the annex's, or for an own slot the sub-bidang's "lain-lain" wording.
    pub fn name(&self) -> &'static str {
        match self {
            ActivityRef::Annex(i) => &i.name,
            ActivityRef::OwnSlot { sub_bidang } => {
                let slot = format!("{}.90", sub_bidang.code);
                catalogue().activity(&slot).map(|i| i.name.as_str()).unwrap_or(&sub_bidang.name)
            }
        }
    }
}

/// The activity an API code (`02.03.10`) names, if the catalogue or a village's own slot holds it.
pub fn activity(api_code: &str) -> Option<ActivityRef> {
    let annex = annex_activity_code(api_code)?;
    let cat = catalogue();
    if let Some(item) = cat.activity(&annex).filter(|i| i.level == Level::Kegiatan) {
        return Some(ActivityRef::Annex(item));
    }
    open_slot_parent(&cat.activities, &annex)
        .filter(|p| p.level == Level::SubBidang)
        .map(|sub_bidang| ActivityRef::OwnSlot { sub_bidang })
}

/// The bidang and sub-bidang above an API activity code, as annex items (for report headings).
pub fn activity_parents(api_code: &str) -> Option<(&'static Item, &'static Item)> {
    let annex = annex_activity_code(api_code)?;
    let cat = catalogue();
    let (sub, _) = annex.rsplit_once('.')?;
    let (bidang, _) = sub.rsplit_once('.')?;
    Some((cat.activity(bidang)?, cat.activity(sub)?))
}

/// Parses one of the annex files: a header `code,level,parent,name,range`, then one row per line, a field holding a
/// comma or a quote double-quoted (RFC 4180).
fn parse(text: &str) -> Result<Vec<Item>, String> {
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty file")?;
    if header.trim_end() != "code,level,parent,name,range" {
        return Err(format!("unexpected header {header:?}"));
    }
    let mut items: Vec<Item> = Vec::new();
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields =
            split_csv_line(line.trim_end_matches('\r')).ok_or_else(|| format!("line {}: bad quoting", n + 2))?;
        let [code, level, parent, name, range] =
            <[String; 5]>::try_from(fields).map_err(|f| format!("line {}: {} fields, expected 5", n + 2, f.len()))?;
        let level = Level::parse(&level).ok_or_else(|| format!("line {}: unknown level {level:?}", n + 2))?;
        let parent = (!parent.is_empty()).then_some(parent);
        if let Some(p) = &parent {
            if !items.iter().any(|i| &i.code == p) {
                return Err(format!("line {}: parent {p} comes before its children", n + 2));
            }
        }
        let open_slot = match range.as_str() {
            "" => false,
            "90-99" => true,
            other => return Err(format!("line {}: unknown range {other:?}", n + 2)),
        };
        items.push(Item { code, level, parent, name, open_slot });
    }
    Ok(items)
}

fn split_csv_line(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => break,
                    c => field.push(c),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Some(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return None,
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Some(fields);
                    }
                    Some(',') => break,
                    Some('"') => return None,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(items: &[Item], level: Level) -> usize {
        items.iter().filter(|i| i.level == level).count()
    }

    /// The counts the reference's README states, per level.
    #[test]
    fn the_annex_parses_whole() {
        let c = catalogue();
        assert_eq!(c.accounts.len(), 204);
        assert_eq!(
            [Level::Akun, Level::Kelompok, Level::Jenis, Level::Objek].map(|l| count(&c.accounts, l)),
            [3, 9, 44, 148]
        );
        assert_eq!(c.accounts.iter().filter(|i| i.open_slot).count(), 21);
        assert_eq!(c.activities.len(), 207);
        assert_eq!([Level::Bidang, Level::SubBidang, Level::Kegiatan].map(|l| count(&c.activities, l)), [5, 27, 175]);
        assert_eq!(c.activities.iter().filter(|i| i.open_slot).count(), 24);
        assert_eq!(c.account("5.3.4.01").unwrap().name, "Belanja Modal Honor Tim yang Melaksanakan Kegiatan");
        assert!(c.account("5.2.9.01").is_none() && c.account("4.3.9.01").is_none());
    }

    /// The copy in the repository is the reference's file, byte for byte, wherever the reference sits beside it.
    #[test]
    fn the_copy_is_the_reference() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/permendagri-20-2018");
        if !dir.exists() {
            eprintln!("{} is not here; nothing to compare", dir.display());
            return;
        }
        for (file, ours) in [("rekening.csv", REKENING), ("kegiatan.csv", KEGIATAN)] {
            assert_eq!(std::fs::read_to_string(dir.join(file)).unwrap(), ours, "{file} differs from the reference");
        }
    }

    #[test]
    fn quoted_fields() {
        assert_eq!(split_csv_line(r#"a,"b, c","d ""e""",,"#).unwrap(), ["a", "b, c", "d \"e\"", "", ""]);
        assert!(split_csv_line(r#"a,"b"c"#).is_none());
        assert!(split_csv_line(r#"a,"b"#).is_none());
    }

    #[test]
    fn activity_codes() {
        assert_eq!(annex_activity_code("02.03.10").as_deref(), Some("2.3.10"));
        assert_eq!(api_activity_code("2.3.10"), "02.03.10");
        assert!(matches!(activity("02.03.10"), Some(ActivityRef::Annex(i)) if i.code == "2.3.10"));
        assert!(matches!(activity("01.01.04"), Some(ActivityRef::Annex(_))));
        // Own slots: 1.1 has a 90-99 slot.
        assert!(matches!(activity("01.01.95"), Some(ActivityRef::OwnSlot { sub_bidang }) if sub_bidang.code == "1.1"));
        assert!(activity("01.01.89").is_none());
        assert!(activity("01.01.55").is_none(), "not in the annex");
        assert!(activity("06.01.01").is_none());
        assert!(activity("2.3.10").is_none(), "the API form is BB.SS.KK");
        assert!(activity("00.01.01").is_none());
        let (b, s) = activity_parents("02.03.10").unwrap();
        assert_eq!((b.code.as_str(), s.code.as_str()), ("2", "2.3"));
    }

    #[test]
    fn own_account_slots() {
        assert!(is_own_account_slot("4.1.1.91"));
        assert!(is_own_account_slot("5.2.5.99"));
        assert!(!is_own_account_slot("5.2.5.89"));
        assert!(!is_own_account_slot("5.1.3.91"), "5.1.3 has no lain-lain slot");
        assert!(!is_own_account_slot("5.2.5"));
        assert!(!is_own_account_slot("1.1.1.91"), "balance-sheet accounts are not the annex's");
    }

    #[test]
    fn every_api_activity_round_trips() {
        for k in catalogue().activities.iter().filter(|i| i.level == Level::Kegiatan) {
            let api = api_activity_code(&k.code);
            assert_eq!(annex_activity_code(&api).as_deref(), Some(k.code.as_str()));
            assert!(activity(&api).is_some(), "{api}");
        }
    }
}
