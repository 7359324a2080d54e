//! OpenAPI 3.1 documents, generated from the handlers' annotations, one per gateway.

use crate::api::Paged;
use crate::error::{ErrorCode, FieldError, Problem};
use crate::routes::tariff_search;
use crate::routes::{national_measures, ops, quotas, shared, tariff, tariff_admin, tariff_browse};
use portorium_audit::{AuditEntry, Outcome};
use portorium_store::{
    AgencyRow, MessageRow, OfficeRow, PrincipalRow, ProofBundle, TenantRow, TokenRow, TraderRow,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Portorium operations API", description = "Internal: health, metrics, administrations, principals, credentials and the tamper-evident audit log."),
    paths(
        ops::health, ops::ready, ops::metrics,
        ops::create_tenant, ops::list_tenants, ops::get_tenant,
        ops::create_office, ops::list_tenant_offices, ops::create_agency,
        ops::create_principal, ops::list_principals, ops::get_principal,
        ops::issue_token, ops::list_tokens, ops::revoke_token,
        ops::audit_key, ops::latest_checkpoint, ops::list_checkpoints, ops::sign_checkpoint,
        ops::list_entries, ops::get_entry, ops::inclusion_proof, ops::consistency_proof,
        tariff_admin::list_common_imports, tariff_admin::create_common_import, tariff_admin::rollback_common_import,
    ),
    components(schemas(Problem, FieldError, ErrorCode, TenantRow, OfficeRow, AgencyRow, PrincipalRow, TokenRow,
        ops::IssuedToken, ops::CheckpointView, ops::AuditKey, AuditEntry, Outcome, ProofBundle, Paged<TenantRow>, portorium_store::TariffImportRow)),
    modifiers(&BearerAuth)
)]
pub struct OperationsApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Portorium administration API", description = "For customs officers, national systems, other government agencies and security officers."),
    paths(
        shared::me, shared::list_offices, shared::get_office,
        shared::register_trader, shared::list_traders, shared::get_trader,
        shared::send_message, shared::list_messages, shared::get_message,
        shared::security_audit_entries,
        tariff::commodity, tariff::duty_calculation_route,
        tariff_browse::sections_route, tariff_browse::chapter_route, tariff_browse::heading_route, tariff_browse::line_route,
        tariff_browse::areas_route, tariff_browse::area_route,
        tariff_search::search_route,
        tariff_admin::list_imports, tariff_admin::create_import, tariff_admin::get_import, tariff_admin::rollback_import,
        tariff_admin::list_exchange_rates, tariff_admin::set_exchange_rate,
        national_measures::list_national_measures, national_measures::list_drafts, national_measures::create_draft, national_measures::get_draft, national_measures::amend_draft,
        national_measures::submit_draft, national_measures::approve_draft, national_measures::reject_draft, national_measures::withdraw_draft,
        quotas::list_route, quotas::get_route, quotas::balance_history, quotas::request_allocation, quotas::return_quantity, quotas::record_surveillance, quotas::surveillance,
    ),
    components(schemas(Problem, FieldError, ErrorCode, shared::Me, OfficeRow, TraderRow, MessageRow, AuditEntry, Outcome,
        tariff::CommodityView, tariff::CommodityLine, tariff::MeasureView, tariff::ConditionView, tariff::Money, tariff::UnitPrice, tariff::DutyCalculationRequest, tariff::DutyCalculationView, tariff::DutyOptionView, tariff::DutyLineView, tariff::ProhibitionView,
        tariff_browse::SectionsView, tariff_browse::SectionView, tariff_browse::ChapterSummary, tariff_browse::LineView, tariff_browse::TreeNode, tariff_browse::AreasView, tariff_browse::AreaView,
        tariff_search::SearchResults, tariff_search::SearchResult, tariff_search::SearchLinks,
        national_measures::NationalMeasuresView, national_measures::NationalMeasureView, national_measures::NationalConditionView, national_measures::MeasureDraftBody, national_measures::ValidityBody, national_measures::ComponentBody, national_measures::ConditionBody, national_measures::StepBody, portorium_store::MeasureDraftRow, Paged<portorium_store::MeasureDraftRow>,
        portorium_store::TariffImportRow, portorium_store::ExchangeRateRow, tariff_admin::ExchangeRatesView, tariff_admin::RateView, tariff_admin::RateSource, tariff_admin::SetRate,
        quotas::QuotaListView, quotas::QuotaSummary, quotas::QuotaView, quotas::QuotaOriginView, quotas::QuotaPeriodView, quotas::QuotaDefinitionView, quotas::QuotaEventView, quotas::SubQuotaView, quotas::AllocationRequestBody, quotas::AllocationView, quotas::ReturnBody, quotas::SurveillanceBody, quotas::SurveillanceView,
        portorium_store::QuotaAllocationRow, portorium_store::QuotaReturnRow, portorium_store::QuotaSurveillanceRow, portorium_store::QuotaHistoryRow, Paged<portorium_store::QuotaHistoryRow>)),
    modifiers(&BearerAuth)
)]
pub struct AdministrationApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Portorium trader API", description = "Public consultation (anonymous) and the trader interface."),
    paths(
        shared::public_administrations, shared::me, shared::get_trader,
        shared::list_messages, shared::get_message,
        tariff::public_commodity, tariff::public_duty_calculation,
        tariff_browse::public_sections, tariff_browse::public_chapter, tariff_browse::public_heading, tariff_browse::public_line,
        tariff_browse::public_areas, tariff_browse::public_area,
        tariff_search::public_search,
        quotas::public_list, quotas::public_get,
    ),
    components(schemas(Problem, FieldError, ErrorCode, shared::Me, shared::PublicAdministration, TraderRow, MessageRow,
        tariff::CommodityView, tariff::CommodityLine, tariff::MeasureView, tariff::ConditionView, tariff::Money, tariff::UnitPrice, tariff::DutyCalculationRequest, tariff::DutyCalculationView, tariff::DutyOptionView, tariff::DutyLineView, tariff::ProhibitionView,
        tariff_browse::SectionsView, tariff_browse::SectionView, tariff_browse::ChapterSummary, tariff_browse::LineView, tariff_browse::TreeNode, tariff_browse::AreasView, tariff_browse::AreaView,
        tariff_search::SearchResults, tariff_search::SearchResult, tariff_search::SearchLinks,
        quotas::QuotaListView, quotas::QuotaSummary, quotas::QuotaView, quotas::QuotaOriginView, quotas::QuotaPeriodView, quotas::QuotaDefinitionView, quotas::QuotaEventView, quotas::SubQuotaView)),
    modifiers(&BearerAuth)
)]
pub struct TraderApi;

/// The document of a gateway.
pub fn document(circle: portorium_kernel::Circle) -> utoipa::openapi::OpenApi {
    use portorium_kernel::Circle;
    match circle {
        Circle::Operations => OperationsApi::openapi(),
        Circle::Administration => AdministrationApi::openapi()
            .merge_from(crate::routes::transit_officer::TransitOfficerApi::openapi())
            .merge_from(crate::routes::declarations_admin::AdminApi::openapi())
            .merge_from(crate::routes::declarations_officer::DeclarationsOfficerApi::openapi()),
        Circle::Trader => TraderApi::openapi()
            .merge_from(crate::routes::transit::TransitApi::openapi())
            .merge_from(crate::routes::declarations_admin::TraderApi::openapi())
            .merge_from(crate::routes::customs_declarations::CustomsDeclarationsApi::openapi()),
    }
}
