//! `portorium tariff …`: load TARIC3 envelopes and HS/CN nomenclature files into the common
//! tariff or an administration's national layer, list the import history, roll an import back.

use crate::config::Config;
use crate::Admin;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use portorium_store::{NewTariffRecord, RecordChange, TariffLayer};
use portorium_tariff::layer::{changes_from_envelope, changes_from_nomenclature, Change};
use portorium_tariff::nomenclature::{self, NomenclatureFormat};
use std::collections::HashMap;
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

fn default_xsd() -> Option<PathBuf> {
    let base =
        std::env::var("PORTORIUM_REFERENCE").unwrap_or_else(|_| "../shared/reference".into());
    let p = Path::new(&base).join("tariff/taric3/taric3.xsd");
    p.exists().then_some(p)
}

/// Read and convert every file; nothing is written yet.
fn prepare(files: &[PathBuf], xsd: Option<&Path>) -> Result<(Vec<Change>, Vec<&'static str>)> {
    let mut changes = Vec::new();
    let mut formats = Vec::new();
    let mut nomenclature_files: HashMap<NomenclatureFormat, (PathBuf, String)> = HashMap::new();
    let schema = match xsd {
        Some(p) => Some(
            portorium_xsd::Schema::from_file(p)
                .with_context(|| format!("loading {}", p.display()))?,
        ),
        None => None,
    };
    for f in files {
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        if portorium_tariff::taric3::looks_like_taric3(&bytes) {
            match &schema {
                Some(s) => {
                    if let Err(violations) = s.validate(&bytes) {
                        let first = violations
                            .first()
                            .map(|v| v.to_string())
                            .unwrap_or_default();
                        bail!(
                            "{}: not valid against taric3.xsd ({} problems); first: {first}",
                            f.display(),
                            violations.len()
                        );
                    }
                }
                None => eprintln!(
                    "warning: no taric3.xsd given (--taric3-xsd); {} is checked structurally only",
                    f.display()
                ),
            }
            let env = portorium_tariff::taric3::parse_envelope(&bytes)
                .with_context(|| f.display().to_string())?;
            portorium_tariff::taric3::check_sequencing(&env)
                .with_context(|| f.display().to_string())?;
            changes.extend(changes_from_envelope(&env).with_context(|| f.display().to_string())?);
            formats.push("taric3");
        } else if let Some(kind) = nomenclature::detect(&bytes) {
            let text = String::from_utf8(bytes)
                .with_context(|| format!("{} is not UTF-8", f.display()))?;
            nomenclature_files.insert(kind, (f.clone(), text));
        } else {
            bail!("{}: format not recognised (expected a TARIC3 envelope, the HS 2022 CSV or a CN 2026 JSON file)", f.display());
        }
    }
    use NomenclatureFormat as F;
    let cn = [
        F::CnSectionsJson,
        F::CnChaptersJson,
        F::CnHeadingsJson,
        F::CnSubheadingsJson,
        F::CnCodesJson,
    ];
    if cn.iter().any(|k| nomenclature_files.contains_key(k)) {
        let get = |k: &F| {
            nomenclature_files
                .get(k)
                .map(|(_, t)| t.as_str())
                .with_context(|| format!("the CN 2026 import needs all five files (sections, chapters, headings, subheadings, codes); {k:?} is missing"))
        };
        let items = nomenclature::parse_cn2026(
            get(&cn[0])?,
            get(&cn[1])?,
            get(&cn[2])?,
            get(&cn[3])?,
            get(&cn[4])?,
        )?;
        changes.extend(changes_from_nomenclature(&items));
        formats.push("cn2026");
    }
    if let Some((_, csv)) = nomenclature_files.get(&F::Hs2022Csv) {
        let sections = nomenclature_files
            .get(&F::Hs2022SectionsCsv)
            .map(|(_, t)| t.as_str());
        let items = nomenclature::parse_hs2022(csv, sections)?;
        changes.extend(changes_from_nomenclature(&items));
        formats.push("hs2022");
    } else if nomenclature_files.contains_key(&F::Hs2022SectionsCsv) {
        bail!("the HS sections CSV was given without hs2022_harmonized-system.csv");
    }
    Ok((changes, formats))
}

pub async fn run(cfg: &Config, cmd: TariffCmd) -> Result<()> {
    match cmd {
        TariffCmd::Import {
            layer,
            taric3_xsd,
            files,
        } => {
            let layer = layer.layer()?;
            let xsd = taric3_xsd.or_else(default_xsd);
            let (changes, formats) = prepare(&files, xsd.as_deref())?;
            let changes: Vec<RecordChange> = changes
                .into_iter()
                .map(|c| {
                    if c.delete {
                        RecordChange::Delete {
                            kind: c.kind,
                            key: c.key,
                        }
                    } else {
                        RecordChange::Upsert(NewTariffRecord {
                            kind: c.kind,
                            key: c.key,
                            valid_from: c.valid_from,
                            valid_to: c.valid_to,
                            payload: c.payload,
                        })
                    }
                })
                .collect();
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
                .tariff_import(&layer, &source, &formats.join("+"), &changes, &progress)
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
