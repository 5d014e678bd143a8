//! `indexer`: ingest folders of public records into a data folder, the
//! archivist's desk on it (withdraw, verify, catalog export, report), and
//! measure search quality on judged queries.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use indexer::catalog_export::{self, ExportEncoding, ExportFormat};
use indexer::ingest::{self, IngestOptions, Summary};
use indexer::opensearch_export::{self, ExportOptions};
use indexer::withdrawal::{self, Withdrawal, Withdrawals};
use indexer::{catalog, fixity, report};
use indexer::{eval, Archive};
use indicatif::{ProgressBar, ProgressStyle};

/// [`write_out`] a line, formatted as `println!` does.
macro_rules! say {
    ($($arg:tt)*) => {
        write_out(&format!("{}\n", format_args!($($arg)*)))
    };
}

#[derive(Parser)]
#[command(name = "indexer", version, about = "Yuelan indexer: public records in, a compressed Chinese full-text archive out")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add new and changed files of SOURCE_DIRs to the archive in --data;
    /// unchanged files are left alone: those whose size, modification time
    /// and inode (and their sidecar's, and their catalog.csv row) are as
    /// when they were indexed are not even read.
    Ingest {
        /// Folders of documents; a document's path is relative to the folder it was found in.
        #[arg(required = true, value_name = "SOURCE_DIR")]
        sources: Vec<PathBuf>,
        /// Data folder to create or update (the search server reads it).
        #[arg(long, value_name = "DATA_DIR")]
        data: PathBuf,
        /// Also remove documents whose files are gone from the SOURCE_DIRs.
        #[arg(long)]
        prune: bool,
        /// Read and hash every file, even those whose size, modification
        /// time and inode say they are unchanged; store again originals
        /// missing from the data folder.
        #[arg(long)]
        verify: bool,
        /// Print the summary as one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Fixity check of the data folder; exit status 1 with the list of
    /// problems when anything is wrong.
    ///
    /// Reads back every stored original and compares its sha256 with the
    /// name it is stored under (damaged), checks that every public
    /// document's original is there (missing) and that no stored original
    /// is one no document holds (orphan), and that the index opens and
    /// holds the documents it says (index). `indexer ingest --verify`
    /// repairs what it can from the sources.
    Verify {
        /// Data folder to check.
        #[arg(long, value_name = "DATA_DIR")]
        data: PathBuf,
        /// Print the report as one JSON object (documents, originals,
        /// bytes, problems as {kind, what, detail}) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The 政府信息公开目录 of the data folder, for exchange platforms.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Hand the archive over to a search engine that runs beyond one
    /// server (OpenSearch, Elasticsearch).
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// What the public searched for and the counts of the annual
    /// disclosure report, for the reading rooms and the archivists.
    ///
    /// From the search server's query log (--query-log of search-server):
    /// searches per day (China Standard Time) and per reading point
    /// (terminal profile; "web" for web users), the most searched queries,
    /// the queries that found nothing (what the archive lacks or the
    /// synonyms miss) and the share answered only by partial matches. A
    /// search is a log line asking for a first page: later pages of it are
    /// not counted again. From the archive: documents by category,
    /// publisher, year, disclosure and validity, and per year (published,
    /// else written) those made, now repealed (失效) and in force.
    Report {
        /// Data folder of the archive.
        #[arg(long, value_name = "DATA_DIR")]
        data: PathBuf,
        /// The search server's query log (one JSON line per search).
        #[arg(long, value_name = "FILE")]
        query_log: PathBuf,
        /// First day of the log to count (e.g. 2016-01-01).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day of the log to count, inclusive.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// text for a terminal; csv (section,key,detail,count) for a
        /// spreadsheet; html: one self-contained page with bar charts, to
        /// print or attach (redirect it to a file).
        #[arg(long, value_enum, default_value = "text")]
        format: ReportFormat,
    },
    /// Take documents published by mistake down at once, list the
    /// withdrawn ones, or undo a withdrawal.
    ///
    /// A withdrawn document is deleted in a commit of its own (a running
    /// search server stops serving it, its original, suggestions and
    /// counts within its reload delay) and purged from the index files,
    /// with every copy of it the index holds (the same original and
    /// catalog data), each listed as a withdrawal of its own.
    /// It stays down across later ingests, wherever its file is found,
    /// which list it under `withheld`, until the withdrawal is undone or
    /// its catalog data changes (it is then published with a note, and
    /// held down again if the withdrawn catalog data comes back). The
    /// withdrawals (id, path, title, time, reason) are kept in
    /// DATA_DIR/withdrawals.json.
    #[command(group = clap::ArgGroup::new("what").required(true).args(["ids", "undo", "list"]))]
    Withdraw {
        /// Data folder the documents are in.
        #[arg(long, value_name = "DATA_DIR")]
        data: PathBuf,
        /// Ids of the documents to withdraw (the last part of /documents/{id}).
        #[arg(value_name = "ID", requires = "reason")]
        ids: Vec<String>,
        /// Why they are withdrawn; kept with the withdrawal.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Undo the withdrawal of ID: the next ingest of its source brings it back.
        #[arg(long, value_name = "ID")]
        undo: Option<String>,
        /// List the withdrawals in force.
        #[arg(long)]
        list: bool,
        /// Print the withdrawals as JSON (one array) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Ingest a corpus and score judged queries (nDCG@10, MRR@10, Recall@10)
    /// through the same search the server runs.
    Eval {
        /// Corpus folder; qrels paths are relative to it (e.g. ../shared/corpus).
        #[arg(long, value_name = "DIR")]
        corpus: PathBuf,
        /// Queries file: `qid<TAB>query` lines.
        #[arg(long, value_name = "FILE")]
        queries: PathBuf,
        /// Judgments: `qid<TAB>path<TAB>grade` lines.
        #[arg(long, value_name = "FILE")]
        qrels: PathBuf,
        /// Data folder for the corpus index (re-used when unchanged).
        #[arg(long, value_name = "DATA_DIR", default_value = "target/eval-data")]
        data: PathBuf,
        /// Also write the ranked results as `qid<TAB>rank<TAB>path` lines.
        #[arg(long, value_name = "FILE")]
        run: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Fail (exit status 1) when the overall nDCG@10 is below this.
        #[arg(long, value_name = "SCORE")]
        min_ndcg: Option<f64>,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Write the 政府信息公开目录 to standard output: one row per public and
    /// 依申请公开 document with every catalog field (id, path, 索引号, 标题,
    /// 发布机构, 文号, 成文日期, 发布日期, 主题分类, 公开属性, 有效性, format,
    /// bytes, sha256), then the text of public documents (正文; never that
    /// of 依申请公开 ones). Withheld and withdrawn documents are never in
    /// it. Rows are ordered by date (published, else written; undated first),
    /// then id.
    /// Ingesting the export into an empty data folder gives the same
    /// catalog fields.
    Export {
        /// Data folder to export.
        #[arg(long, value_name = "DATA_DIR")]
        data: PathBuf,
        /// csv: Chinese headers and disclosures (主动公开, 依申请公开);
        /// jsonl: one object per line with the English field names.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// gbk is written as GB18030 (GBK for every character GBK has).
        #[arg(long, value_enum, default_value = "utf-8")]
        encoding: Encoding,
        /// Only documents dated (published, else written) on or after this
        /// day, e.g. 2016-01-01; undated ones are left out.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Write an OpenSearch index template and _bulk files of the archive
    /// into --out, and the state to continue from next time.
    ///
    /// Files written: template.json (settings and mappings, for
    /// `PUT _index_template/yuelan`, or the name given to --index;
    /// built-in analyzers only, no plugin),
    /// bulk-0001.ndjson, … (bodies for `POST _bulk`, at most 10 MB each,
    /// to apply in order), state.json (every exported document's id and
    /// fingerprint: pass it as --since to the next export) and
    /// manifest.json, written last: counts, and the bytes and sha256 of
    /// every file. They are written into OUT.partial-PID beside --out,
    /// which becomes --out once complete: a failed export leaves --out as
    /// it was. The export holds the data folder's ingest lock while it
    /// runs: an ingest or a withdrawal started meanwhile fails, saying so,
    /// and so does an export started while one of them runs.
    ///
    /// A document carries its catalog fields as keywords and dates (文号
    /// and 索引号 also as the keys Yuelan finds them by), and its title,
    /// catalog line and text normalized as Yuelan normalizes them (NFKC,
    /// lowercase, traditional → simplified) for one token per Han
    /// character with positions (phrases), with Yuelan's words and
    /// sub-words for scoring. Withheld and withdrawn documents are never
    /// in it; 依申请公开 ones carry their catalog fields only, no text.
    ///
    /// With --since, only what changed since that export: `delete`
    /// actions (first) for documents removed, withdrawn or withheld since,
    /// `index` actions for new and changed ones.
    ///
    ///     curl -XPUT http://HOST:9200/_index_template/yuelan -H 'Content-Type: application/json' --data-binary @template.json
    ///     curl -XPOST http://HOST:9200/_bulk -H 'Content-Type: application/x-ndjson' --data-binary @bulk-0001.ndjson
    #[command(verbatim_doc_comment)]
    Opensearch {
        /// Data folder to export.
        #[arg(long, value_name = "DATA_DIR")]
        data: PathBuf,
        /// Folder to write the export into: a new or empty one.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// state.json of the previous export of this data folder: export
        /// only what changed since.
        #[arg(long, value_name = "STATE")]
        since: Option<PathBuf>,
        /// The index to fill: the template's index_patterns and every
        /// action's _index (a name OpenSearch accepts: lowercase, none of
        /// \ / * ? " < > | , # : or spaces, not starting with - _ +, at
        /// most 255 bytes). Two archives can go to two indices of one
        /// cluster; a --since state continues its own index only.
        #[arg(long, value_name = "NAME", default_value = opensearch_export::INDEX_NAME)]
        index: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    Text,
    Csv,
    Html,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Encoding {
    #[value(name = "utf-8")]
    Utf8,
    Gbk,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .init();
    let result = match Cli::parse().command {
        Command::Ingest { sources, data, prune, verify, json } => ingest_command(sources, data, prune, verify, json),
        Command::Verify { data, json } => verify_command(&data, json),
        Command::Report { data, query_log, from, to, format } => report_command(&data, &query_log, from, to, format),
        Command::Catalog { command: CatalogCommand::Export { data, format, encoding, since } } => {
            export_command(&data, format, encoding, since.as_deref())
        }
        Command::Export { command: ExportCommand::Opensearch { data, out, since, index } } => {
            opensearch_command(ExportOptions { since, index, ..ExportOptions::new(data, out) })
        }
        Command::Withdraw { data, ids, reason, undo, list, json } => withdraw_command(&data, &ids, reason, undo, list, json),
        Command::Eval { corpus, queries, qrels, data, run, json, min_ndcg } => eval_command(corpus, queries, qrels, data, run, json)
            .and_then(|ndcg| match min_ndcg {
                Some(min) if ndcg < min => Err(format!("nDCG@10 {ndcg:.3} is below the required {min:.3}").into()),
                _ => Ok(()),
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Whoever read the output stopped reading (`| head`): nothing to say.
        Err(Failure::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => {
            eprintln!("indexer: cannot write to standard output: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Message(message)) => {
            eprintln!("indexer: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Why a command failed: what to tell the person, or standard output that
/// could not be written (closed or full).
enum Failure {
    Message(String),
    Output(std::io::Error),
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::Message(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure::Message(message.to_string())
    }
}

impl From<indexer::Error> for Failure {
    /// An error writing standard output (the catalog export's rows) is
    /// told apart by its kind.
    fn from(error: indexer::Error) -> Failure {
        match error {
            indexer::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe => Failure::Output(source),
            error => Failure::Message(error.to_string()),
        }
    }
}

/// Write `text` to standard output now (every command's output goes
/// through here, so that a closed or full output is a [`Failure`], not a
/// panic).
fn write_out(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).map_err(Failure::Output)
}

fn ingest_command(sources: Vec<PathBuf>, data: PathBuf, prune: bool, verify: bool, json: bool) -> Result<(), Failure> {
    let options = IngestOptions { prune, verify, progress: !json, ..IngestOptions::new(sources, data) };
    let started = std::time::Instant::now();
    let summary = ingest::run(&options).map_err(|e| e.to_string())?;
    if json {
        say!("{}", serde_json::to_string(&summary).map_err(|e| e.to_string())?)?;
    } else {
        write_out(&report(&summary, started.elapsed()))?;
    }
    Ok(())
}

/// The end-of-run summary for a person.
fn report(s: &Summary, took: std::time::Duration) -> String {
    let mut out = format!(
        "{} added, {} updated, {} unchanged, {} removed, {} withheld, {} rejected in {:.1}s\n",
        s.added,
        s.updated,
        s.unchanged,
        s.removed,
        s.withheld.len(),
        s.rejected.len(),
        took.as_secs_f64()
    );
    if s.rebuilt {
        out.push_str("  the index another version wrote was rebuilt from these sources\n");
    }
    for path in &s.withheld {
        out.push_str(&format!("  withheld (不予公开 or withdrawn, not indexed): {path}\n"));
    }
    for r in &s.rejected {
        out.push_str(&format!("  rejected: {}: {}\n", r.path, r.reason));
    }
    for w in &s.warnings {
        out.push_str(&format!("  note: {}: {}\n", w.path, w.reason));
    }
    out
}

fn report_command(data: &Path, log: &Path, from: Option<String>, to: Option<String>, format: ReportFormat) -> Result<(), Failure> {
    let day = |flag: &str, date: Option<String>| -> Result<Option<String>, String> {
        date.map(|d| catalog::parse_date(&d).ok_or(format!("--{flag} must be a date like 2016-12-30, found {d:?}"))).transpose()
    };
    let period = report::Period { from: day("from", from)?, to: day("to", to)? };
    if let (Some(from), Some(to)) = (&period.from, &period.to) {
        if from > to {
            return Err(format!("--from {from} is after --to {to}").into());
        }
    }
    let archive = Archive::open(data).map_err(|e| e.to_string())?;
    let size = std::fs::metadata(log).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(size);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} of the query log, {elapsed}") {
        bar.set_style(style);
    }
    let gathered = report::gather(&archive, log, &period, |read| bar.set_position(read)).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let page = match format {
        ReportFormat::Text => report::text(&gathered),
        ReportFormat::Csv => report::csv(&gathered).map_err(|e| e.to_string())?,
        ReportFormat::Html => report::html_page(&gathered),
    };
    write_out(&page)?;
    Ok(())
}

fn export_command(data: &Path, format: Format, encoding: Encoding, since: Option<&str>) -> Result<(), Failure> {
    let since = match since {
        Some(date) => Some(catalog::parse_date(date).ok_or(format!("--since must be a date like 2016-12-30, found {date:?}"))?),
        None => None,
    };
    let archive = Archive::open(data).map_err(|e| e.to_string())?;
    // No withdrawal commits while the rows are written; what committed
    // before the lock was taken is read.
    let _lock = ingest::read_lock(data).map_err(|e| e.to_string())?;
    archive.reload().map_err(|e| e.to_string())?;
    let format = match format {
        Format::Csv => ExportFormat::Csv,
        Format::Jsonl => ExportFormat::Jsonl,
    };
    let encoding = match encoding {
        Encoding::Utf8 => ExportEncoding::Utf8,
        Encoding::Gbk => ExportEncoding::Gbk,
    };
    let bar = ProgressBar::new(archive.num_docs());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} documents, {elapsed}") {
        bar.set_style(style);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let since = since.map(|d| indexer::schema::date_key(&d));
    let written = catalog_export::export(&archive, format, encoding, since, &mut out, || bar.inc(1))?;
    bar.finish_and_clear();
    eprintln!("{written} documents exported");
    Ok(())
}

fn opensearch_command(options: ExportOptions) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} documents analyzed, {elapsed}") {
        bar.set_style(style);
    }
    let manifest = opensearch_export::export(&options, || bar.inc(1)).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let took = started.elapsed().as_secs_f64().max(1e-9);
    let c = &manifest.counts;
    let (source, written) = (c.source_bytes as f64 / 1e6, c.output_bytes as f64 / 1e6);
    say!(
        "{} indexed ({} on request, without text), {} deleted, {} unchanged, into {} bulk files in {}",
        c.indexed,
        c.on_request,
        c.deleted,
        c.unchanged,
        manifest.bulk.len(),
        options.out.display()
    )?;
    say!(
        "{source:.1} MB of originals, {written:.1} MB written in {took:.2}s ({:.1} MB/s of originals, {:.1} MB/s written)",
        source / took,
        written / took
    )?;
    let state = options.out.join(&manifest.state.file).to_string_lossy().to_string();
    // As a shell takes it (a path with spaces quoted); a path no shell can
    // be given (a NUL) is not quoted.
    let state = shlex::try_quote(&state).map(|quoted| quoted.to_string()).unwrap_or(state);
    say!("next time: --since {state}")?;
    Ok(())
}

fn verify_command(data: &Path, json: bool) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let report = fixity::verify(data, !json).map_err(|e| e.to_string())?;
    let took = started.elapsed().as_secs_f64();
    if json {
        say!("{}", serde_json::to_string(&report).map_err(|e| e.to_string())?)?;
    } else {
        let mb = report.bytes as f64 / 1e6;
        say!(
            "{} documents, {} originals ({mb:.1} MB) checked in {took:.2}s ({:.0} MB/s): {} problems",
            report.documents,
            report.originals,
            mb / took.max(1e-9),
            report.problems.len()
        )?;
        for p in &report.problems {
            say!("  {:?}: {}: {}", p.kind, p.what, p.detail)?;
        }
    }
    match report.problems.len() {
        0 => Ok(()),
        n => Err(format!("{n} problems found in {}", data.display()).into()),
    }
}

fn withdraw_command(
    data: &Path,
    ids: &[String],
    reason: Option<String>,
    undo: Option<String>,
    list: bool,
    json: bool,
) -> Result<(), Failure> {
    if !data.join("index").is_dir() {
        return Err(indexer::Error::NoIndex(data.to_path_buf()).into());
    }
    let shown: Vec<Withdrawal> = if list {
        Withdrawals::load(data).map_err(|e| e.to_string())?.active().cloned().collect()
    } else if let Some(id) = undo {
        vec![withdrawal::undo(data, &id).map_err(|e| e.to_string())?]
    } else {
        let reason = reason.filter(|r| !r.trim().is_empty()).ok_or("--reason must say why the documents are withdrawn")?;
        // Purging a large segment takes seconds.
        let spinner = if json { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
        spinner.set_message("withdrawing, then purging them from the index files");
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        let withdrawn = withdrawal::withdraw(data, ids, reason.trim()).map_err(|e| e.to_string());
        spinner.finish_and_clear();
        withdrawn?
    };
    if json {
        say!("{}", serde_json::to_string(&shown).map_err(|e| e.to_string())?)?;
        return Ok(());
    }
    for w in &shown {
        let state = match &w.undone {
            Some(at) => format!("undone {at}; back at the next ingest of {}", w.source),
            None => format!("withdrawn {}", w.time),
        };
        say!("{}\t{}\t{}\t{state}\t{}", w.id, w.path, w.title, w.reason)?;
    }
    Ok(())
}

fn eval_command(
    corpus: PathBuf,
    queries: PathBuf,
    qrels: PathBuf,
    data: PathBuf,
    run: Option<PathBuf>,
    json: bool,
) -> Result<f64, Failure> {
    let read = |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let (queries, qrels) = (eval::parse_queries(&read(&queries)?), eval::parse_qrels(&read(&qrels)?));
    ingest::run(&IngestOptions { prune: true, ..IngestOptions::new(vec![corpus], data.clone()) }).map_err(|e| e.to_string())?;
    let archive = Archive::open(&data).map_err(|e| e.to_string())?;
    let report = eval::evaluate(&archive, &queries, &qrels);
    if let Some(path) = run {
        std::fs::write(&path, report.run_file()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if json {
        say!("{}", serde_json::to_string(&report).map_err(|e| e.to_string())?)?;
    } else {
        write_out(&report.table())?;
    }
    Ok(report.overall.ndcg)
}
