//! `ordo`: the command line. A thin layer over the `ordo` library: parse arguments, call the
//! engine, print a table (or JSON with `--json`).
//!
//! Exit codes: 0 success; 1 a check failed or the input was invalid (located errors on
//! stderr); 2 usage error (unknown command or flag).

mod cli;

// The engine allocates many small, short-lived JSON values per step; glibc's allocator spent
// about a quarter of the CPU of a busy flow (half of bank matching) in malloc, free and
// malloc_consolidate.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ordo",
    version,
    about = "ordo: order-to-cash integration engine"
)]
struct Args {
    /// Configuration file: config/ordo.yaml (embedded SQLite) or config/cluster.yaml
    /// (PostgreSQL + RabbitMQ).
    #[arg(long, global = true, default_value = "config/ordo.yaml")]
    config: PathBuf,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the workers until stopped (Ctrl-C / SIGTERM).
    Run {
        /// Number of workers (default from the config).
        #[arg(long)]
        workers: Option<usize>,
        /// Stop when nothing is left to do right now.
        #[arg(long)]
        exit_when_idle: bool,
        /// Do not watch workflows/ and rules/ for changes.
        #[arg(long)]
        no_reload: bool,
        /// Serve the HTTP API on ADDR (HOST:PORT), or `off`; default `http.listen` of the
        /// config.
        #[arg(long, value_name = "ADDR|off")]
        listen: Option<String>,
    },
    /// Validate workflows and rules; print every error as path:line:col.
    Check,
    /// Rule tools.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Submit orders (a JSON order, a JSON array of orders, or JSON lines).
    Submit { file: PathBuf },
    /// State and history of an order (business key) or instance id.
    Status { key: String },
    /// List instances, optionally by status (running, waiting, failed, ended).
    Instances {
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Include each instance's history (JSON output).
        #[arg(long)]
        history: bool,
    },
    /// What the connectors produced: documents per kind, number series, outbound messages,
    /// stock levels.
    Summary,
    /// Resume a failed instance at the step that failed.
    Retry { instance: String },
    /// Open human tasks.
    Tasks,
    /// Approve a task.
    Approve {
        task: i64,
        #[arg(long)]
        note: Option<String>,
    },
    /// Reject a task.
    Reject {
        task: i64,
        #[arg(long)]
        reason: String,
    },
    /// Send an event to instances waiting for it (and start workflows it triggers).
    Event {
        name: String,
        key: String,
        #[arg(long, default_value = "received")]
        outcome: String,
        /// JSON object merged into the instance's data.
        #[arg(long, default_value = "{}")]
        data: String,
    },
    /// Import master data, all or nothing: JSON or YAML { "customer": [..], "item": [..],
    /// "supplier": [..], "stock": [..] }, or a CSV file of one kind (customers.csv, items.csv,
    /// suppliers.csv, stock.csv, or --kind).
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Simulated business time (for demos and tests).
    Clock {
        #[command(subcommand)]
        command: ClockCommand,
    },
    /// Run a realistic batch of orders on a fresh embedded store and check every outcome.
    Demo {
        #[arg(long, default_value_t = 240)]
        orders: usize,
        /// Folder for the demo's database and outbound files (emptied first).
        #[arg(long, default_value = "data/demo")]
        dir: PathBuf,
        /// Cluster backend: keep the run's PostgreSQL schema and RabbitMQ queues afterwards.
        #[arg(long)]
        keep: bool,
    },
    /// Book a goods receipt against a purchase order (all open lines, or --lines SKU=QTY,...).
    Receive {
        po: String,
        #[arg(long)]
        lines: Option<String>,
        #[arg(long, default_value = "main")]
        location: String,
    },
    /// Start a replenishment run now (workflows/replenishment.yaml; `ordo run` works it).
    Replenish,
    /// A purchase order's new expected date (YYYY-MM-DD): orders counting on it are promised
    /// again (new confirmation, webhook `order.promise_changed`).
    PoExpect { po: String, date: String },
    /// Record a customer payment for an invoice (emits payment.matched).
    Pay {
        invoice: String,
        amount: String,
        /// Value date YYYY-MM-DD (default: business today).
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        reference: Option<String>,
    },
    /// Issue a credit note for an invoice: whole (cancels it) or `--line N --qty Q` pairs.
    CreditNote {
        invoice: String,
        /// An invoice line to credit (repeat; each with its --qty, in the same order).
        #[arg(long = "line")]
        lines: Vec<u32>,
        /// The quantity of the --line at the same position (a negative one is refused by the
        /// credit-note rule, with its words, not by the argument parser).
        #[arg(long = "qty", allow_hyphen_values = true)]
        qtys: Vec<String>,
        #[arg(long)]
        reason: String,
    },
    /// Returns (RMA) of shipped goods: `ordo return request ORDER --line N --qty Q --reason R`.
    Return {
        #[command(subcommand)]
        command: cli::returns::ReturnCommand,
    },
    /// Complaints (after-sales cases): open, show, decide (return, credit note or close).
    Complaint {
        #[command(subcommand)]
        command: cli::complaints::ComplaintCommand,
    },
    /// Record the goods of an authorised return as received (then inspected by rule).
    ReceiveReturn(cli::returns::ReceiveArgs),
    /// Change or cancel an order until its lines ship: `ordo order change|cancel ORDER`.
    Order {
        #[command(subcommand)]
        command: cli::orders::OrderCommand,
    },
    /// Quotations: `ordo quote request FILE`, `accept Q [--po PO]`, `show Q`.
    Quote {
        #[command(subcommand)]
        command: cli::orders::QuoteCommand,
    },
    /// Customer credit (overpayments, credit notes on paid invoices): apply it to open
    /// invoices, or refund it by SEPA transfer (pain.001 in data/outbound/payments/).
    CustomerCredit {
        #[command(subcommand)]
        command: cli::credit::CustomerCreditCommand,
    },
    /// A customer's statement of account: open items, payments and credit notes, credit,
    /// balance, aging (a table, --json, --html FILE, or --pdf FILE via headless Chromium).
    Statement {
        customer: String,
        #[arg(long)]
        html: Option<PathBuf>,
        #[arg(long)]
        pdf: Option<PathBuf>,
        /// YYYY-MM-DD (default: business today).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Bank reconciliation in the store: import statements, run matching, work the
    /// exceptions queue.
    Recon {
        #[command(subcommand)]
        command: ReconCommand,
    },
    /// Export an invoice or credit note (CN-…) as JSON (default), printable HTML, or PDF.
    Invoice(cli::sales::InvoiceArgs),
    /// Business reports: sales, aging, dso, cycle-time, fulfilment, stock, recon, edi (or
    /// `all`). Ratios with nothing to divide by print n/a (JSON null, CSV empty). `rebuild`
    /// recomputes the sales aggregates from the documents; `check` compares them.
    Report {
        name: String,
        /// First day of the period (YYYY-MM-DD, inclusive).
        #[arg(long)]
        from: Option<String>,
        /// Last day of the period (YYYY-MM-DD, inclusive).
        #[arg(long)]
        to: Option<String>,
        /// Group by, comma-separated: day|week|month|quarter, customer, item, item-group,
        /// channel, partner (sales); statement|rule (recon).
        #[arg(long)]
        by: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: cli::report::Format,
        /// Also write a self-contained HTML page with SVG charts to FILE.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// `aging` only: the day (YYYY-MM-DD, default business today), per customer and total.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Demand forecast per item (method chosen by hold-out error, interval per period) from
    /// the shipped history, or from a `date,quantity` history file.
    Forecast(cli::forecast::ForecastArgs),
    /// Benchmarks that print figures beside the raw ceiling measured in the same run.
    Bench {
        #[command(subcommand)]
        command: cli::bench::BenchCommand,
    },
    /// API users and their tokens (`add` prints the token once).
    Users {
        #[command(subcommand)]
        command: cli::users::UsersCommand,
    },
    /// Webhook deliveries (`deliveries [--failed]`) and `redeliver ID`.
    Webhooks {
        #[command(subcommand)]
        command: cli::webhooks::WebhooksCommand,
    },
    /// The double-entry ledger: trial-balance, entries, check, close, export.
    Ledger {
        #[command(subcommand)]
        command: cli::ledger::LedgerCommand,
    },
    /// The audit trail: who decided or changed what, through what, before and after.
    Audit {
        /// From this time on (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// An actor: user:NAME, os:NAME, or NAME for the API user.
        #[arg(long)]
        who: Option<String>,
        /// Records about this order.
        #[arg(long)]
        order: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: i64,
    },
    /// EDI tools without the engine: parse, ack, to-order, render (X12 and EDIFACT files).
    Edi {
        #[command(subcommand)]
        command: cli::edi::EdiCommand,
    },
    /// Bank tools without the engine: parse statements, reconcile against open invoices.
    Bank {
        #[command(subcommand)]
        command: cli::bank::BankCommand,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Run rules/NAME.test.yaml (all rules when NAME is omitted).
    Test { name: Option<String> },
}

#[derive(Subcommand)]
enum ReconCommand {
    /// Import a bank statement file for an account profile (config/banks/ACCOUNT.yaml), as if
    /// dropped into its inbound folder; the file stays where it is.
    Import {
        file: PathBuf,
        #[arg(long)]
        account: String,
    },
    /// Match every imported statement not reconciled yet, now (the bank-reconciliation
    /// workflow does the same on its cron schedule).
    Run,
    /// The exceptions queue: payments that wait for a person (`--all` includes decided ones).
    Exceptions {
        #[arg(long)]
        all: bool,
    },
    /// Confirm exception EX as payment of INVOICE[=AMOUNT]... (amounts on every invoice split
    /// the payment; none fills the invoices in order, an excess becomes customer credit).
    Match {
        exception: String,
        #[arg(required = true)]
        invoices: Vec<String>,
        /// Remember the payer's account for this customer (next time it matches by itself).
        #[arg(long)]
        learn: bool,
        #[arg(long)]
        note: Option<String>,
    },
    /// Close exception EX without booking it against invoices.
    Reject {
        exception: String,
        #[arg(long)]
        reason: String,
    },
    /// Reconciliation reports per statement (matched, partially matched, exceptions, totals).
    Reports,
    /// Compare the open-items index with the invoice documents; exits 1 naming every
    /// difference.
    CheckIndex,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Import a .json, .yaml/.yml or .csv file; every error is reported located, and nothing
    /// is stored unless the whole file is valid.
    Import {
        file: PathBuf,
        /// What a CSV file holds (customer, item, supplier, stock) when its name does not say.
        #[arg(long)]
        kind: Option<String>,
    },
}

#[derive(Subcommand)]
enum ClockCommand {
    /// Show business time and the offset from real time.
    Show,
    /// Move business time forward, e.g. `30d`, `2h`.
    Advance { by: String },
}

fn main() -> ExitCode {
    // Like other Unix tools, stop quietly when the reader of our output goes away
    // (`ordo edi parse big.edi | head`) instead of panicking on a failed print.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx=warn,lapin=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    // A panic is caught where it matters (a step fails, a worker's batch is given back) and
    // logged there with its context; the hook only keeps one located log line for it instead
    // of the default multi-line report.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(at = %at, "panic: {msg}");
    }));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ordo: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = rt.block_on(cli::dispatch(args));
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    code
}
