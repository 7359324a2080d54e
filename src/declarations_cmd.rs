//! `refdata import`, `authorisation add|list|revoke` and `guarantee add|balance`: the NCTS
//! reference data, authorisations and guarantees of issue 4, administered on the data
//! directory like the other commands (recorded in the audit log as `cli:$USER`).

use crate::config::Config;
use crate::{open_store, Admin};
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::Subcommand;
use portorium_kernel::{Clock, Eori, PrincipalId, SystemClock, TenantCode};
use portorium_store::{NewAuthorisation, NewGuarantee, Page, Scope};
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Subcommand)]
pub enum RefdataCmd {
    /// Import NCTS reference data: the COL generic export (zip or XML: customs offices and
    /// code lists) and the code-list catalogue (code_lists.csv). Each list in the files
    /// replaces the stored one; all files are imported in one transaction.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The latest reference data imports.
    Imports,
}

#[derive(Subcommand)]
pub enum AuthorisationCmd {
    /// Register an authorisation held by a trader (C521 authorised consignor, C505
    /// comprehensive guarantee…).
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        holder: String,
        #[arg(long = "type")]
        type_code: String,
        #[arg(long = "ref")]
        reference: String,
        /// First day of validity (default: today).
        #[arg(long)]
        valid_from: Option<NaiveDate>,
        #[arg(long)]
        valid_until: Option<NaiveDate>,
    },
    /// The authorisations of an administration.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke an authorisation by id.
    Revoke {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
pub enum GuaranteeCmd {
    /// Register a guarantee. Only a hash of the access code is stored.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        grn: String,
        /// Guarantee type (code list CL251, e.g. 1 comprehensive guarantee).
        #[arg(long = "type")]
        guarantee_type: String,
        #[arg(long)]
        holder: String,
        #[arg(long)]
        access_code: String,
        /// Reference amount.
        #[arg(long)]
        amount: String,
        #[arg(long)]
        currency: String,
        #[arg(long)]
        valid_from: Option<NaiveDate>,
        #[arg(long)]
        valid_until: Option<NaiveDate>,
    },
    /// Reference amount, reserved and available amounts of a guarantee.
    Balance {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        grn: String,
    },
}

fn cli_user() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// The administration's own system principal, in whose name the CLI changes its rows.
fn actor(tenant: &TenantCode) -> Result<PrincipalId> {
    Ok(format!("system:{tenant}/cli").parse()?)
}

fn today() -> NaiveDate {
    SystemClock.now().date_naive()
}

pub async fn refdata(cfg: &Config, cmd: RefdataCmd) -> Result<()> {
    match cmd {
        RefdataCmd::Import { files } => {
            let mut all = Vec::new();
            let mut names = Vec::new();
            for path in &files {
                let bytes =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                let file = portorium_refdata::parse(&bytes)
                    .with_context(|| format!("parsing {}", path.display()))?;
                for skipped in &file.skipped {
                    eprintln!("{}: {skipped} is not a code list, skipped", path.display());
                }
                all.extend(portorium_server::refdata::batches(file));
                names.push(
                    path.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                );
            }
            if all.is_empty() {
                bail!("the files hold no reference data");
            }
            let source = names.join(", ");
            let a = Admin::open(cfg).await?;
            let r = a.store.refdata_import(&cli_user(), &source, &all).await;
            a.record(
                "refdata.import",
                &source,
                None,
                r.is_ok(),
                r.as_ref().ok().map(|rows| format!("{} lists", rows.len())),
            )
            .await?;
            a.finish().await;
            for row in r? {
                println!("{}\t{} entries\t{}", row.list_name, row.entries, row.id);
            }
        }
        RefdataCmd::Imports => {
            let store = open_store(cfg).await?;
            for row in store.refdata_imports(100).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    row.imported_at.to_rfc3339(),
                    row.list_name,
                    row.entries,
                    row.source,
                    row.imported_by
                );
            }
        }
    }
    Ok(())
}

pub async fn authorisation(cfg: &Config, cmd: AuthorisationCmd) -> Result<()> {
    match cmd {
        AuthorisationCmd::Add {
            tenant,
            holder,
            type_code,
            reference,
            valid_from,
            valid_until,
        } => {
            let tenant: TenantCode = tenant.parse()?;
            let new = NewAuthorisation {
                holder: holder.parse::<Eori>()?,
                type_code,
                reference,
                valid_from: valid_from.unwrap_or_else(today),
                valid_until,
            };
            let a = Admin::open(cfg).await?;
            let r = a
                .store
                .scoped(Scope::Tenant(tenant.clone()))
                .authorisation_add(&actor(&tenant)?, &new)
                .await;
            a.record(
                "authorisation.add",
                &format!("{} {}", new.type_code, new.reference),
                Some(tenant.to_string()),
                r.is_ok(),
                None,
            )
            .await?;
            a.finish().await;
            let row = r?;
            println!(
                "authorisation {} {} for {} added ({})",
                row.type_code, row.reference, row.holder, row.id
            );
        }
        AuthorisationCmd::List { tenant } => {
            let store = open_store(cfg).await?;
            let scoped = store.scoped(Scope::Tenant(tenant.parse()?));
            let mut page = Page::first(Page::MAX);
            loop {
                let (rows, next) = scoped.authorisations(None, &page).await?;
                for a in rows {
                    println!(
                        "{}\t{}\t{}\t{}\t{}..{}\t{}",
                        a.id,
                        a.type_code,
                        a.reference,
                        a.holder,
                        a.valid_from,
                        a.valid_until.map(|d| d.to_string()).unwrap_or_default(),
                        if a.revoked_at.is_some() {
                            "revoked"
                        } else {
                            ""
                        }
                    );
                }
                match next {
                    Some(n) => page.after = Some(n),
                    None => break,
                }
            }
        }
        AuthorisationCmd::Revoke { tenant, id } => {
            let tenant: TenantCode = tenant.parse()?;
            let a = Admin::open(cfg).await?;
            let r = a
                .store
                .scoped(Scope::Tenant(tenant.clone()))
                .authorisation_revoke(&actor(&tenant)?, &id)
                .await;
            a.record(
                "authorisation.revoke",
                &id,
                Some(tenant.to_string()),
                r.is_ok(),
                None,
            )
            .await?;
            a.finish().await;
            let row = r?;
            println!("authorisation {} {} revoked", row.type_code, row.reference);
        }
    }
    Ok(())
}

pub async fn guarantee(cfg: &Config, cmd: GuaranteeCmd) -> Result<()> {
    match cmd {
        GuaranteeCmd::Add {
            tenant,
            grn,
            guarantee_type,
            holder,
            access_code,
            amount,
            currency,
            valid_from,
            valid_until,
        } => {
            let tenant: TenantCode = tenant.parse()?;
            let hash = portorium_server::auth::hash_password(&access_code)
                .map_err(|e| anyhow::anyhow!("access code: {}", e.detail))?;
            let new = NewGuarantee {
                grn,
                guarantee_type,
                access_code_hash: hash,
                reference_amount: Decimal::from_str(&amount)
                    .with_context(|| format!("amount {amount:?}"))?,
                currency: currency.parse()?,
                holder: holder.parse()?,
                valid_from: valid_from.unwrap_or_else(today),
                valid_until,
            };
            let a = Admin::open(cfg).await?;
            let r = a
                .store
                .scoped(Scope::Tenant(tenant.clone()))
                .guarantee_add(&actor(&tenant)?, &new)
                .await;
            a.record(
                "guarantee.add",
                &new.grn,
                Some(tenant.to_string()),
                r.is_ok(),
                None,
            )
            .await?;
            a.finish().await;
            let g = r?;
            println!(
                "guarantee {} for {} added: {} {}",
                g.grn, g.holder, g.reference_amount, g.currency
            );
        }
        GuaranteeCmd::Balance { tenant, grn } => {
            let store = open_store(cfg).await?;
            let b = store
                .scoped(Scope::Tenant(tenant.parse()?))
                .guarantee_balance(&grn)
                .await?;
            println!(
                "{}\treference {} {}\treserved {}\tavailable {}",
                b.grn, b.reference_amount, b.currency, b.reserved, b.available
            );
        }
    }
    Ok(())
}
