//! Benchmark: finding a returning family by typing part of a name, over 10 000, 100 000 and
//! 1 000 000 families in real SQLCipher files (default page cache, WAL). For each size, a few hundred
//! 3-5 character pieces of real members' names go through `families::search_families` (limit 20:
//! names that start with the piece first, then names containing it, each with its visit history) and,
//! in the same run and on the same connection, through the bare FTS5 statement
//! `SELECT rowid FROM family_search WHERE family_search MATCH ? LIMIT 20` with the same phrase.
//! Targets: p99 at 100k at most 2x the bare query; 1M at most 3x the time of 10k.
//!
//! Names are deterministic fakes: British, South Asian, Eastern European (with their accents) and
//! Arabic (a few in Arabic script), 1-5 members a family, surnames shared within a family. A third of
//! the families have 1-6 linked check-ins. Loading uses `families::bulk_insert_for_bench` and
//! `bulk_finish_for_bench` (no outbox change, no audit entry) in one transaction per size.
//!
//! `POPS_BENCH_FAMILIES=10000,100000` runs only those sizes; `POPS_BENCH_KEEP=<folder>` keeps the
//! loaded databases there and reuses them (for tuning).

use chrono::NaiveDate;
use pops_domain::families::{
    AgeBand, Consent, ConsentMethod, Contact, Family, FamilyMember, LinkedPrisoner, Relationship,
};
use pops_store::{DbKey, Store, families};
use rusqlite::{Connection, params};
use std::time::{Duration, Instant};
use uuid::Uuid;

const QUERIES: usize = 400;
const WARM_UP: usize = 50;
const PASSES: usize = 3;
const LIMIT: usize = 20;

/// splitmix64: small, fast, and the same sequence every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Skewed towards the front of a list, as real name frequencies are.
    fn skewed<'a>(&mut self, list: &[&'a str]) -> &'a str {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        list[((u * u) * list.len() as f64) as usize % list.len()]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

struct Culture {
    share: u64,
    first: &'static [&'static str],
    last: &'static [&'static str],
}

const BRITISH: Culture = Culture {
    share: 45,
    first: &[
        "Oliver",
        "George",
        "Harry",
        "Jack",
        "Jacob",
        "Noah",
        "Charlie",
        "Thomas",
        "Oscar",
        "William",
        "James",
        "Leo",
        "Alfie",
        "Joshua",
        "Freddie",
        "Archie",
        "Ethan",
        "Isaac",
        "Joseph",
        "Olivia",
        "Amelia",
        "Isla",
        "Ava",
        "Emily",
        "Sophie",
        "Grace",
        "Lily",
        "Mia",
        "Ella",
        "Jessica",
        "Chloe",
        "Charlotte",
        "Ruby",
        "Evie",
        "Poppy",
        "Daisy",
        "Freya",
        "Megan",
        "Hannah",
        "Lauren",
        "Paige",
        "Kayleigh",
        "Shannon",
        "Jade",
        "Stacey",
        "Dean",
        "Wayne",
        "Craig",
        "Gary",
        "Lee",
        "Darren",
        "Kirsty",
        "Siobhan",
        "Niamh",
        "Callum",
        "Connor",
        "Declan",
        "Ciara",
        "Rhys",
        "Dylan",
        "Bethan",
        "Tyler",
        "Kyle",
        "Courtney",
        "Leanne",
    ],
    last: &[
        "Smith",
        "Jones",
        "Williams",
        "Taylor",
        "Brown",
        "Davies",
        "Evans",
        "Wilson",
        "Thomas",
        "Johnson",
        "Roberts",
        "Robinson",
        "Thompson",
        "Wright",
        "Walker",
        "White",
        "Edwards",
        "Hughes",
        "Green",
        "Hall",
        "Lewis",
        "Harris",
        "Clarke",
        "Jackson",
        "Wood",
        "Turner",
        "Martin",
        "Cooper",
        "Hill",
        "Ward",
        "Morris",
        "Moore",
        "Clark",
        "King",
        "Baker",
        "Harrison",
        "Morgan",
        "Allen",
        "Scott",
        "Phillips",
        "Watson",
        "Parker",
        "Price",
        "Bennett",
        "Young",
        "Griffiths",
        "Mitchell",
        "Kelly",
        "Cook",
        "Carter",
        "Richardson",
        "Bailey",
        "Collins",
        "Bell",
        "Shaw",
        "Murphy",
        "Miller",
        "Cox",
        "O'Brien",
        "O'Neill",
        "McDonald",
        "Fitzgerald",
        "Doherty",
        "Gallagher",
        "Byrne",
        "Kennedy",
        "Smith-Jones",
        "Lloyd",
        "Hart",
    ],
};

const SOUTH_ASIAN: Culture = Culture {
    share: 25,
    first: &[
        "Mohammed", "Muhammad", "Ali", "Imran", "Asif", "Tariq", "Zubair", "Bilal", "Hamza", "Usman", "Arjun", "Rohan",
        "Vikram", "Rahul", "Amit", "Sanjay", "Gurpreet", "Harpreet", "Manpreet", "Jaspreet", "Sukhdeep", "Rajinder",
        "Aisha", "Fatima", "Ayesha", "Zainab", "Maryam", "Nadia", "Saima", "Shabana", "Rukhsana", "Priya", "Anjali",
        "Sunita", "Pooja", "Kiran", "Simran", "Neha", "Deepa", "Shazia", "Farhan", "Kamran", "Adnan", "Irfan",
        "Nasreen", "Parveen", "Ravi", "Sunil", "Anil", "Yasir",
    ],
    last: &[
        "Khan",
        "Patel",
        "Ahmed",
        "Hussain",
        "Ali",
        "Shah",
        "Begum",
        "Akhtar",
        "Iqbal",
        "Rahman",
        "Islam",
        "Chaudhry",
        "Malik",
        "Mahmood",
        "Bibi",
        "Sharma",
        "Singh",
        "Kaur",
        "Gill",
        "Sandhu",
        "Dhillon",
        "Sidhu",
        "Kumar",
        "Gupta",
        "Mistry",
        "Desai",
        "Joshi",
        "Mehta",
        "Chopra",
        "Kapoor",
        "Siddiqui",
        "Qureshi",
        "Butt",
        "Mirza",
        "Raza",
        "Javed",
        "Aslam",
        "Anwar",
        "Bashir",
        "Nawaz",
        "Chowdhury",
        "Miah",
        "Uddin",
        "Hossain",
        "Sultana",
        "Akram",
        "Rashid",
    ],
};

const EASTERN_EUROPEAN: Culture = Culture {
    share: 18,
    first: &[
        "Piotr",
        "Paweł",
        "Tomasz",
        "Krzysztof",
        "Łukasz",
        "Michał",
        "Marcin",
        "Jakub",
        "Mateusz",
        "Kacper",
        "Andrzej",
        "Grzegorz",
        "Agnieszka",
        "Katarzyna",
        "Małgorzata",
        "Joanna",
        "Magdalena",
        "Zofia",
        "Ewa",
        "Anna",
        "Natalia",
        "Aleksandra",
        "Oksana",
        "Olena",
        "Iryna",
        "Tetiana",
        "Dmytro",
        "Oleksandr",
        "Andriy",
        "Serhiy",
        "Ionuț",
        "Andrei",
        "Mihai",
        "Alexandru",
        "Elena",
        "Ioana",
        "Jānis",
        "Tomas",
        "Vilma",
        "Rūta",
        "Lucie",
        "Jiří",
        "Petr",
        "Tereza",
        "Zuzana",
        "Darius",
        "Bogdan",
        "Vasile",
        "Nikola",
    ],
    last: &[
        "Nowak",
        "Kowalski",
        "Wiśniewski",
        "Wójcik",
        "Kowalczyk",
        "Kamiński",
        "Lewandowski",
        "Zieliński",
        "Szymański",
        "Woźniak",
        "Dąbrowski",
        "Kozłowski",
        "Jankowski",
        "Mazur",
        "Kwiatkowski",
        "Krawczyk",
        "Kaczmarek",
        "Piotrowski",
        "Grabowski",
        "Pawlak",
        "Michalski",
        "Shevchenko",
        "Kovalenko",
        "Bondarenko",
        "Tkachenko",
        "Kravchenko",
        "Melnyk",
        "Popescu",
        "Ionescu",
        "Popa",
        "Dumitru",
        "Stan",
        "Stoica",
        "Gheorghe",
        "Rusu",
        "Kazlauskas",
        "Jankauskas",
        "Petrauskas",
        "Bērziņš",
        "Kalniņš",
        "Novák",
        "Svoboda",
        "Dvořák",
        "Černý",
        "Procházka",
        "Horváth",
        "Nagy",
        "Tóth",
        "Kovács",
        "Varga",
    ],
};

const ARABIC: Culture = Culture {
    share: 12,
    first: &[
        "Ahmed",
        "Mahmoud",
        "Omar",
        "Khalid",
        "Yusuf",
        "Ibrahim",
        "Hassan",
        "Hussein",
        "Mustafa",
        "Abdullah",
        "Abdulrahman",
        "Karim",
        "Samir",
        "Tarek",
        "Walid",
        "Nabil",
        "Jamal",
        "Faisal",
        "Rami",
        "Ziad",
        "Layla",
        "Noor",
        "Huda",
        "Salma",
        "Mariam",
        "Amira",
        "Yasmin",
        "Rania",
        "Dalia",
        "Hiba",
        "Sara",
        "Lina",
        "Rasha",
        "Samira",
        "Nour",
        "Farah",
        "Reem",
        "Dina",
        "Hanan",
        "Iman",
        "Youssef",
        "Adel",
        "Majid",
        "Sami",
        "Amal",
        "Wafa",
        "Soraya",
        "Ghada",
        "محمد",
        "أحمد",
        "فاطمة",
        "مريم",
    ],
    last: &[
        "Al-Hassan",
        "Al-Sayed",
        "Abdullah",
        "Haddad",
        "Khalil",
        "Mansour",
        "Nasser",
        "Saleh",
        "Hamdan",
        "Ibrahim",
        "Mahmoud",
        "Mustafa",
        "Omar",
        "Yousef",
        "Aziz",
        "Farouk",
        "Hashem",
        "Jaber",
        "Karam",
        "Nassar",
        "Qasim",
        "Rahim",
        "Sabbagh",
        "Shami",
        "Tahir",
        "Zayed",
        "El-Amin",
        "El-Masri",
        "Al-Rashid",
        "Al-Najjar",
        "Bakr",
        "Darwish",
        "Fakhoury",
        "Ghanem",
        "Habib",
        "Issa",
        "Jamil",
        "Kassem",
        "Mattar",
        "Obeid",
        "Rizk",
        "Sadek",
        "Salem",
        "Suleiman",
        "Yassin",
        "Zaki",
        "Al-Khatib",
        "Bitar",
        "Chahine",
        "Daher",
        "منصور",
        "حداد",
    ],
};

const CULTURES: [&Culture; 4] = [&BRITISH, &SOUTH_ASIAN, &EASTERN_EUROPEAN, &ARABIC];

fn culture(dice: &mut Dice) -> &'static Culture {
    let mut roll = dice.next() % 100;
    for c in CULTURES {
        if roll < c.share {
            return c;
        }
        roll -= c.share;
    }
    &BRITISH
}

fn day(n: u64) -> String {
    let start = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap_or_default();
    (start + chrono::Days::new(n)).format("%Y-%m-%d").to_string()
}

/// A UUIDv7, as the app makes them: `n` milliseconds after a fixed start, so ids come in order.
fn v7(n: u64, dice: &mut Dice) -> Uuid {
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&dice.next().to_le_bytes());
    uuid::Builder::from_unix_timestamp_millis(1_760_000_000_000 + n, &random).into_uuid()
}

/// One fake family (the `n`th): a lead adult, perhaps a partner, and children sharing a surname.
fn family(n: u64, dice: &mut Dice, user: Uuid) -> Family {
    let c = culture(dice);
    let surname = dice.skewed(c.last);
    let size = [1, 2, 2, 3, 3, 3, 4, 4, 5, 5][dice.below(10)];
    let mut members = Vec::with_capacity(size);
    for i in 0..size {
        let last = if i == 1 && dice.chance(40) { dice.skewed(c.last) } else { surname };
        let name = if dice.chance(8) {
            format!("{} {} {last}", dice.skewed(c.first), dice.skewed(c.first))
        } else {
            format!("{} {last}", dice.skewed(c.first))
        };
        let child = i >= 2 || (i == 1 && dice.chance(50));
        members.push(FamilyMember {
            id: Uuid::from_u64_pair(dice.next(), dice.next()),
            name,
            relationship: if i == 0 {
                Relationship::Partner
            } else if child {
                Relationship::Child
            } else {
                Relationship::Parent
            },
            date_of_birth: child
                .then(|| format!("20{:02}-{:02}-{:02}", 10 + dice.below(15), 1 + dice.below(12), 1 + dice.below(28))),
            age_band: (!child).then_some(AgeBand::Adult),
        });
    }
    let given = dice.next() % 360;
    let at = format!("{}T10:00:00.000Z", day(given));
    Family {
        id: v7(n, dice),
        consent: Consent {
            given_by: members[0].name.clone(),
            method: if dice.chance(50) { ConsentMethod::Verbal } else { ConsentMethod::Written },
            given_on: day(given),
            expires_on: day(given + 365),
            recorded_by: user,
            recorded_at: at.clone(),
        },
        members,
        contact: Contact {
            phone: dice.chance(60).then(|| format!("07700 9{:05}", dice.below(100_000))),
            email: None,
            address: None,
        },
        prisoner: dice
            .chance(70)
            .then(|| LinkedPrisoner { name: None, prison_number: Some(format!("A{:04}BC", dice.below(10_000))) }),
        created_at: at.clone(),
        created_by: user,
        updated_at: at,
        updated_by: user,
    }
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p99(v: &mut [Duration]) -> Duration {
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

struct Figures {
    size: usize,
    ours: (Duration, Duration),
    bare: (Duration, Duration),
}

fn us(d: Duration) -> String {
    format!("{:>8.1} µs", d.as_secs_f64() * 1e6)
}

/// Loads `size` families into the database (unless `loaded`: then it only makes the same names
/// again) and answers the queries to time: pieces of real members' names.
fn load(store: &Store, size: usize, seed: u64, loaded: bool) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut dice = Dice(seed);
    let user = Uuid::from_u64_pair(1, 1);
    let conn = store.connection_for_tests();
    // Bulk load: one transaction with no journal (a benchmark file has nothing to lose) and a larger
    // page cache, both put back to what the app uses before timing. FTS5 keeps its usual 1 MB of
    // pending index data and its automatic merges, so the index has the many segments of a database
    // that grew a family at a time, not the single one of a bulk build.
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; PRAGMA cache_size = -262144; PRAGMA journal_mode = OFF;
         BEGIN",
    )?;
    // Which families give the query pieces, chosen before loading (more than needed: a piece that is
    // mostly apostrophes or hyphens is dropped).
    let mut picks: Vec<usize> = (0..2 * (QUERIES + WARM_UP)).map(|_| dice.below(size)).collect();
    picks.sort_unstable();
    let mut names = Vec::with_capacity(picks.len());
    let mut next_pick = 0;
    let mut check_in = conn.prepare(
        "INSERT INTO check_in (id, session_id, adults, age_0_1, age_2, age_3_4, age_5_11, age_12_17, first_time,
                               arrived_at, checked_in_by, family_id)
         VALUES (?1, 's', 1, 0, 0, 0, 1, 0, 0, ?2, 'u', ?3)",
    )?;
    let mut check_ins = 0u64;
    for i in 0..size {
        let f = family(i as u64, &mut dice, user);
        if !loaded {
            families::bulk_insert_for_bench(conn, &f)?;
        }
        if dice.chance(33) {
            for _ in 0..1 + dice.below(6) {
                let arrived =
                    format!("{}T{:02}:{:02}:00.000Z", day(dice.next() % 360), 9 + dice.below(9), dice.below(60));
                check_ins += 1;
                let id = v7(check_ins, &mut dice);
                if !loaded {
                    check_in.execute(params![id.to_string(), arrived, f.id.to_string()])?;
                }
            }
        }
        while next_pick < picks.len() && picks[next_pick] == i {
            names.push(f.members[dice.below(f.members.len())].name.clone());
            next_pick += 1;
        }
    }
    drop(check_in);
    if !loaded {
        families::bulk_finish_for_bench(conn)?;
    }
    conn.execute_batch(
        "COMMIT;
         PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON",
    )?;
    conn.pragma_update(None, "cache_size", -pops_store::CACHE_KIB)?;
    // A 3-5 character piece of each name, anywhere in it.
    let mut queries: Vec<String> = names
        .iter()
        .map(|n| {
            let chars: Vec<char> = n.chars().collect();
            let len = (3 + dice.below(3)).min(chars.len());
            let start = dice.below(chars.len() - len + 1);
            chars[start..start + len].iter().collect::<String>()
        })
        .filter(|q| families::phrase_for_bench(q).is_some())
        .collect();
    // Shuffle, so that the order of the families is not the order of the queries.
    for i in (1..queries.len()).rev() {
        queries.swap(i, dice.below(i + 1));
    }
    queries.truncate(QUERIES + WARM_UP);
    Ok(queries)
}

fn bare(conn: &Connection, phrase: &str) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT rowid FROM family_search WHERE family_search MATCH ?1 LIMIT 20")?;
    let rows = stmt.query_map([phrase], |r| r.get(0))?;
    rows.collect()
}

fn run(size: usize) -> Result<Figures, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    // While tuning, `POPS_BENCH_KEEP=<folder>` keeps each loaded database there (under a fixed key)
    // and loads it again only when missing.
    let keep = std::env::var_os("POPS_BENCH_KEEP").map(std::path::PathBuf::from);
    let (path, key) = match &keep {
        Some(folder) => (folder.join(format!("families-{size}.db")), DbKey::from_bytes([7; 32])),
        None => (dir.path().join("centre.db"), DbKey::generate()),
    };
    let existed = path.exists();
    let store = Store::open(&path, &key)?;
    let t = Instant::now();
    let queries = load(&store, size, 0x5EED ^ size as u64, existed)?;
    let loaded = t.elapsed();
    let mb = std::fs::metadata(&path)?.len() as f64 / 1e6;
    let conn = store.connection_for_tests();
    let segments: i64 = conn.query_row("SELECT count(DISTINCT segid) FROM family_search_idx", [], |r| r.get(0))?;
    println!(
        "{size:>9} families: loaded in {:.1} s, {mb:.0} MB, {segments} trigram index segments",
        loaded.as_secs_f64()
    );
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default();

    let (warm, timed) = queries.split_at(WARM_UP);
    for q in warm {
        families::search_families(conn, q, today, LIMIT)?;
    }
    // Each query's time is its best of `PASSES` passes. The passes are hundreds of queries apart, so
    // SQLite's page cache is no warmer for the second than for the first; the minimum only drops the
    // moments when other processes on this shared machine had the CPU, which otherwise decide the p99.
    let mut ours = vec![Duration::MAX; timed.len()];
    let mut base = vec![Duration::MAX; timed.len()];
    let mut found = 0usize;
    for pass in 0..PASSES {
        for (i, q) in timed.iter().enumerate() {
            let phrase = families::phrase_for_bench(q).ok_or("a query of fewer than 3 characters")?;
            // Alternate which goes first, so that neither always finds the other's pages in the cache.
            for turn in 0..2 {
                if (i + turn + pass) % 2 == 0 {
                    let t = Instant::now();
                    let r = families::search_families(conn, q, today, LIMIT)?;
                    ours[i] = ours[i].min(t.elapsed());
                    if pass == 0 {
                        found += r.len();
                    }
                } else {
                    let t = Instant::now();
                    let r = bare(conn, &phrase)?;
                    base[i] = base[i].min(t.elapsed());
                    std::hint::black_box(r);
                }
            }
        }
    }
    let figures =
        Figures { size, ours: (median(&mut ours), p99(&mut ours)), bare: (median(&mut base), p99(&mut base)) };
    println!(
        "{:>9} families: search_families median {} p99 {} | bare FTS5 median {} p99 {} | ratio median {:.2}x p99 {:.2}x ({:.1} families found a query)",
        size,
        us(figures.ours.0),
        us(figures.ours.1),
        us(figures.bare.0),
        us(figures.bare.1),
        figures.ours.0.as_secs_f64() / figures.bare.0.as_secs_f64(),
        figures.ours.1.as_secs_f64() / figures.bare.1.as_secs_f64(),
        found as f64 / timed.len() as f64,
    );
    Ok(figures)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<usize> = match std::env::var("POPS_BENCH_FAMILIES") {
        Ok(s) => s.split(',').filter_map(|n| n.trim().parse().ok()).collect(),
        Err(_) => vec![10_000, 100_000, 1_000_000],
    };
    println!(
        "family search: {QUERIES} queries of 3-5 characters per size, limit {LIMIT}, each query's best of {PASSES} passes"
    );
    let mut all = Vec::new();
    for size in sizes {
        all.push(run(size)?);
    }
    let find = |n: usize| all.iter().find(|f| f.size == n);
    if let Some(f) = find(100_000) {
        println!(
            "target p99 at 100k at most 2.00x the bare query: {:.2}x",
            f.ours.1.as_secs_f64() / f.bare.1.as_secs_f64()
        );
    }
    if let (Some(small), Some(big)) = (find(10_000), find(1_000_000)) {
        println!(
            "target 1M at most 3.00x the time of 10k: median {:.2}x, p99 {:.2}x (bare FTS5: median {:.2}x, p99 {:.2}x)",
            big.ours.0.as_secs_f64() / small.ours.0.as_secs_f64(),
            big.ours.1.as_secs_f64() / small.ours.1.as_secs_f64(),
            big.bare.0.as_secs_f64() / small.bare.0.as_secs_f64(),
            big.bare.1.as_secs_f64() / small.bare.1.as_secs_f64(),
        );
    }
    Ok(())
}
