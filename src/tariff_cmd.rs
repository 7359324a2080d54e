//! `portorium tariff …`: load TARIC3 envelopes and HS/CN nomenclature files into the common
//! tariff or an administration's national layer, list the import history, roll an import back.

use crate::config::Config;
use crate::Admin;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use portorium_store::TariffLayer;
use portorium_tariff::layer::{prepare_import, Change, ImportFile};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum TariffCmd {
    /// Import files into a layer. The format is recognised from the content: TARIC3 XML
    /// envelopes, the HS 2022 CSV (and its sections CSV), the five CN 2026 JSON files.
    /// All files are one transaction: a bad file changes nothing.
    Import {
        #[command(flatten)]
        layer: LayerArgs,
        /// taric3.xsd to validate TARIC3 envelopes against (default:
        /// $PORTORIUM_REFERENCE/tariff/taric3/taric3.xsd when present).
        #[arg(long, env = "PORTORIUM_TARIC3_XSD")]
        taric3_xsd: Option<PathBuf>,
        /// Files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The import history of a layer, newest first.
    Imports {
        #[command(flatten)]
        layer: LayerArgs,
    },
    /// Roll back a layer's latest import.
    Rollback {
        #[arg(long)]
        id: String,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct LayerArgs {
    /// The administration whose national layer to use (e.g. NL).
    #[arg(long)]
    tenant: Option<String>,
    /// The common tariff shared by all administrations (the customs union's TARIC).
    #[arg(long)]
    common: bool,
}

impl LayerArgs {
    fn layer(&self) -> Result<TariffLayer> {
        match (&self.tenant, self.common) {
            (Some(t), false) => Ok(TariffLayer::Tenant(t.parse()?)),
            (None, true) => Ok(TariffLayer::Common),
            _ => bail!("give either --tenant XX or --common"),
        }
    }
}

/// Read and convert every file; nothing is written yet.
fn prepare(
    files: &[PathBuf],
    xsd: Option<&Path>,
    layer: &TariffLayer,
) -> Result<(Vec<Change>, String)> {
    let schema = match xsd {
        Some(p) => Some(
            portorium_server::tariff::taric3_schema(p, layer)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("loading {}", p.display()))?,
        ),
        None => None,
    };
    let mut contents = Vec::new();
    for f in files {
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        if schema.is_none() && portorium_tariff::taric3::looks_like_taric3(&bytes) {
            eprintln!(
                "warning: no taric3.xsd given (--taric3-xsd); {} is checked structurally only",
                f.display()
            );
        }
        contents.push((f.display().to_string(), bytes));
    }
    let import_files: Vec<ImportFile<'_>> = contents
        .iter()
        .map(|(name, bytes)| ImportFile { name, bytes })
        .collect();
    let validate = |bytes: &[u8]| -> std::result::Result<(), Vec<String>> {
        match &schema {
            Some(s) => s
                .validate(bytes)
                .map_err(|v| v.iter().map(|x| x.to_string()).collect()),
            None => Ok(()),
        }
    };
    let prepared = prepare_import(&import_files, Some(&validate))?;
    let format = prepared.format();
    Ok((prepared.changes, format))
}

pub async fn run(cfg: &Config, cmd: TariffCmd) -> Result<()> {
    match cmd {
        TariffCmd::Import {
            layer,
            taric3_xsd,
            files,
        } => {
            let layer = layer.layer()?;
            let xsd = taric3_xsd.or_else(crate::config::default_taric3_xsd);
            let (changes, format) = prepare(&files, xsd.as_deref(), &layer)?;
            let changes =
                portorium_server::routes::tariff_admin::to_record_changes(&layer, changes);
            let bar = indicatif::ProgressBar::new(changes.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} records {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let source = files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let a = Admin::open(cfg).await?;
            let progress = {
                let bar = bar.clone();
                move |n: usize| bar.set_position(n as u64)
            };
            let r = a
                .store
                .tariff_import(&layer, &source, &format, &changes, &progress)
                .await;
            bar.finish_and_clear();
            let tenant = match &layer {
                TariffLayer::Tenant(t) => Some(t.to_string()),
                TariffLayer::Common => None,
            };
            let detail = match &r {
                Ok(i) => Some(format!(
                    "import {}: {} inserted, {} updated, {} deleted",
                    i.id, i.inserted, i.updated, i.deleted
                )),
                Err(e) => Some(e.to_string()),
            };
            a.record(
                "tariff.import",
                &format!("tariff/{layer}"),
                tenant,
                r.is_ok(),
                detail,
            )
            .await?;
            a.finish().await;
            let i = r?;
            println!(
                "import {} into the {layer} layer: {} inserted, {} updated, {} deleted ({})",
                i.id, i.inserted, i.updated, i.deleted, i.format
            );
            Ok(())
        }
        TariffCmd::Imports { layer } => {
            let layer = layer.layer()?;
            let store = crate::open_store(cfg).await?;
            for i in store.tariff_imports(&layer).await? {
                println!(
                    "{}\t{}\t{}\t{}\t+{} ~{} -{}\t{}",
                    i.id,
                    i.created_at.to_rfc3339(),
                    i.status,
                    i.format,
                    i.inserted,
                    i.updated,
                    i.deleted,
                    i.source
                );
            }
            Ok(())
        }
        TariffCmd::Rollback { id } => {
            let a = Admin::open(cfg).await?;
            let r = a.store.tariff_rollback(&id).await;
            let tenant = r
                .as_ref()
                .ok()
                .and_then(|i| (i.layer != "common").then(|| i.layer.clone()));
            a.record(
                "tariff.rollback",
                &format!("tariff/import/{id}"),
                tenant,
                r.is_ok(),
                None,
            )
            .await?;
            a.finish().await;
            let i = r?;
            println!("import {} of the {} layer rolled back", i.id, i.layer);
            Ok(())
        }
    }
}
