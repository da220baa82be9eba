//! Exchange service plans and the SKUs the lab reports them under.
//! Source: reference/microsoft-facts.md §8 (entra-docs licensing-service-plan-reference.md).

/// One service plan the lab knows.
pub(crate) struct Plan {
    pub name: &'static str,
    pub service_plan_id: &'static str,
    /// Whether the plan gives the user an Exchange Online mailbox.
    pub gives_mailbox: bool,
    /// The SKU the lab lists in `assignedLicenses` for it (None: not reported as a licence).
    pub sku_id: Option<&'static str>,
}

pub(crate) const PLANS: &[Plan] = &[
    plan(
        "EXCHANGE_S_STANDARD",
        "9aaf7827-d63c-4b61-89c3-182f06f82e5c",
        true,
        Some("4b9405b0-7788-4568-add1-99614e613b69"),
    ),
    plan(
        "EXCHANGE_S_ENTERPRISE",
        "efb87545-963c-4e0d-99df-69c6916d9eb0",
        true,
        Some("19ec0d23-8335-4cbd-94ac-6050e30712fa"),
    ),
    plan(
        "EXCHANGE_S_DESKLESS",
        "4a82b400-a79f-41a4-b4e2-e94f5787b113",
        true,
        Some("80b2d799-d2ba-4d2a-8842-fb0d0f3a4b82"),
    ),
    plan(
        "EXCHANGE_S_ESSENTIALS",
        "1126bef5-da20-4f07-b45e-ad25d2581aa8",
        true,
        Some("e8f81a67-bd96-4074-b108-cf193eb9433b"),
    ),
    plan(
        "EXCHANGE_S_STANDARD_GOV",
        "e9b4930a-925f-45e2-ac2a-3f7788ca6fdd",
        true,
        None,
    ),
    plan(
        "EXCHANGE_S_ENTERPRISE_GOV",
        "8c3069c0-ccdb-44be-ab77-986203a67df2",
        true,
        None,
    ),
    plan(
        "EXCHANGE_S_FOUNDATION",
        "113feb6c-3fe4-4440-bddc-54d774bf0318",
        false,
        None,
    ),
    plan(
        "EXCHANGE_S_FOUNDATION_GOV",
        "922ba911-5694-4e99-a794-73aed9bfeec8",
        false,
        None,
    ),
    plan(
        "EOP_ENTERPRISE",
        "326e2b78-9d27-42c9-8509-46c827743a17",
        false,
        Some("45a2423b-e884-448d-a831-d9e139c52d2f"),
    ),
    plan(
        "EXCHANGE_S_ARCHIVE_ADDON",
        "176a09a6-7ec5-4039-ac02-b2791c6ba793",
        false,
        None,
    ),
];

const fn plan(
    name: &'static str,
    service_plan_id: &'static str,
    gives_mailbox: bool,
    sku_id: Option<&'static str>,
) -> Plan {
    Plan {
        name,
        service_plan_id,
        gives_mailbox,
        sku_id,
    }
}

/// The plan of that name (any case).
pub(crate) fn find(name: &str) -> Option<&'static Plan> {
    PLANS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Names of every known plan, for error messages.
pub(crate) fn known_names() -> String {
    PLANS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}
