//! NCTS reference data as parsed from its published files (`portorium_refdata`) into the
//! store's import batches: the one mapping, used by `portorium refdata import` and the tests.

use portorium_refdata::RefdataFile;
use portorium_store::{NewRefCode, NewRefOffice, RefdataBatch};

/// The store batches of a parsed file.
pub fn batches(file: RefdataFile) -> Vec<RefdataBatch> {
    let mut out = Vec::new();
    if let Some(catalogue) = file.catalogue {
        out.push(RefdataBatch::Catalogue(catalogue));
    }
    if let Some(offices) = file.offices {
        out.push(RefdataBatch::Offices(
            offices
                .into_iter()
                .map(|o| NewRefOffice {
                    reference: o.reference,
                    country: o.country,
                    name: o.name,
                    city: o.city,
                    postal_code: o.postal_code,
                    unlocode: o.unlocode,
                    main_office: o.main_office,
                    trader_dedicated: o.trader_dedicated,
                    roles: o.roles,
                    valid_from: o.valid_from,
                    valid_to: o.valid_to,
                })
                .collect(),
        ));
    }
    for list in file.code_lists {
        out.push(RefdataBatch::Codes {
            list: list.name,
            codes: list
                .codes
                .into_iter()
                .map(|c| NewRefCode {
                    code: c.code,
                    description: c.description,
                    valid_from: c.valid_from,
                    valid_to: c.valid_to,
                })
                .collect(),
        });
    }
    out
}
