//! `licence`: does the sending user hold a service plan that gives an Exchange Online mailbox?
//! Reads `assignedPlans` of the user record (reference §8): a mailbox plan by `servicePlanId`,
//! enabled (or in its grace period). `EXCHANGE_S_FOUNDATION` and friends are Exchange plans that
//! give no mailbox; `service == "exchange"` alone proves nothing.
use std::sync::Arc;

use super::{
    context::{Ctx, LookupToken},
    graph_read::{Read, read},
    mailbox,
};
use crate::{
    check::CheckId,
    classify::graph::GraphOp,
    facts::{AssignedPlan, MailboxKind, UserRecord},
    finding::{Evidence, Finding},
    rules::{RuleId, ids},
};

const CHECK: CheckId = CheckId::Licence;
const NO_LICENCE: RuleId = ids::GRAPH_NO_EXCHANGE_LICENCE;

/// Service plans that give a mailbox: (servicePlanName, servicePlanId, friendly name).
pub const MAILBOX_PLANS: &[(&str, &str, &str)] = &[
    (
        "EXCHANGE_S_STANDARD",
        "9aaf7827-d63c-4b61-89c3-182f06f82e5c",
        "Exchange Online (Plan 1)",
    ),
    (
        "EXCHANGE_S_ENTERPRISE",
        "efb87545-963c-4e0d-99df-69c6916d9eb0",
        "Exchange Online (Plan 2)",
    ),
    (
        "EXCHANGE_S_DESKLESS",
        "4a82b400-a79f-41a4-b4e2-e94f5787b113",
        "Exchange Online Kiosk",
    ),
    (
        "EXCHANGE_S_ESSENTIALS",
        "1126bef5-da20-4f07-b45e-ad25d2581aa8",
        "Exchange Essentials",
    ),
    (
        "EXCHANGE_S_STANDARD_GOV",
        "e9b4930a-925f-45e2-ac2a-3f7788ca6fdd",
        "Exchange Online (Plan 1) for Government",
    ),
    (
        "EXCHANGE_S_ENTERPRISE_GOV",
        "8c3069c0-ccdb-44be-ab77-986203a67df2",
        "Exchange Online (Plan 2) for Government",
    ),
];

/// Exchange plans that give no user mailbox.
pub const NON_MAILBOX_PLANS: &[(&str, &str, &str)] = &[
    (
        "EXCHANGE_S_FOUNDATION",
        "113feb6c-3fe4-4440-bddc-54d774bf0318",
        "Exchange Foundation (no mailbox)",
    ),
    (
        "EXCHANGE_S_FOUNDATION_GOV",
        "922ba911-5694-4e99-a794-73aed9bfeec8",
        "Exchange Foundation for Government (no mailbox)",
    ),
    (
        "EOP_ENTERPRISE",
        "326e2b78-9d27-42c9-8509-46c827743a17",
        "Exchange Online Protection (no mailbox)",
    ),
    (
        "EXCHANGE_S_ARCHIVE_ADDON",
        "176a09a6-7ec5-4039-ac02-b2791c6ba793",
        "Exchange Online Archiving add-on (no mailbox)",
    ),
];

/// SKUs whose mailbox plan is known (skuId -> servicePlanId), for records that list licences but
/// no plans. A plan in the licence's `disabledPlans` is off.
const SKU_MAILBOX_PLAN: &[(&str, &str)] = &[
    (
        "4b9405b0-7788-4568-add1-99614e613b69",
        "9aaf7827-d63c-4b61-89c3-182f06f82e5c",
    ), // EXCHANGESTANDARD
    (
        "19ec0d23-8335-4cbd-94ac-6050e30712fa",
        "efb87545-963c-4e0d-99df-69c6916d9eb0",
    ), // EXCHANGEENTERPRISE
    (
        "80b2d799-d2ba-4d2a-8842-fb0d0f3a4b82",
        "4a82b400-a79f-41a4-b4e2-e94f5787b113",
    ), // EXCHANGEDESKLESS
    (
        "6fd2c87f-b296-42f0-b197-1e91e994b900",
        "efb87545-963c-4e0d-99df-69c6916d9eb0",
    ), // ENTERPRISEPACK (E3)
    (
        "4468c39a-28b2-42fb-9094-840bcf28771f",
        "9aaf7827-d63c-4b61-89c3-182f06f82e5c",
    ), // OFFICEBASIC
];

/// A plan as Graph lists it, matched to the tables by id (or by name, if a name is given).
fn lookup<'a>(
    table: &'a [(&'a str, &'a str, &'a str)],
    id_or_name: &str,
) -> Option<&'a (&'a str, &'a str, &'a str)> {
    table.iter().find(|(name, id, _)| {
        id.eq_ignore_ascii_case(id_or_name) || name.eq_ignore_ascii_case(id_or_name)
    })
}

fn usable(plan: &AssignedPlan) -> bool {
    // `Warning` is the grace period after non-renewal: the mailbox still works.
    plan.capability_status
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case("Enabled") || s.eq_ignore_ascii_case("Warning"))
}

/// What the record says about mailbox plans: the usable ones, and evidence on the rest.
pub(crate) fn mailbox_plans(user: &UserRecord) -> (Vec<&'static str>, Vec<Evidence>) {
    let mut usable_plans = Vec::new();
    let mut ev = Vec::new();
    for plan in &user.assigned_plans {
        let Some(id) = plan.service_plan_id.as_deref() else {
            continue;
        };
        let status = plan.capability_status.as_deref().unwrap_or("?");
        if let Some((name, _, friendly)) = lookup(MAILBOX_PLANS, id) {
            if usable(plan) {
                usable_plans.push(*name);
                ev.push(Evidence::new(
                    "plan",
                    format!("{name} ({friendly}), {status}"),
                ));
            } else {
                ev.push(Evidence::new(
                    "plan",
                    format!("{name} ({friendly}), {status}: not usable"),
                ));
            }
        } else if let Some((name, _, friendly)) = lookup(NON_MAILBOX_PLANS, id) {
            ev.push(Evidence::new(
                "plan",
                format!("{name} ({friendly}), {status}"),
            ));
        }
    }
    if user.assigned_plans.is_empty() {
        for lic in &user.assigned_licenses {
            let Some(sku) = lic.sku_id.as_deref() else {
                continue;
            };
            if let Some((_, plan_id)) = SKU_MAILBOX_PLAN
                .iter()
                .find(|(s, _)| s.eq_ignore_ascii_case(sku))
            {
                let disabled = lic
                    .disabled_plans
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(plan_id));
                if let Some((name, _, friendly)) = lookup(MAILBOX_PLANS, plan_id) {
                    if disabled {
                        ev.push(Evidence::new(
                            "plan",
                            format!("{name} ({friendly}) switched off in licence {sku}"),
                        ));
                    } else {
                        usable_plans.push(*name);
                        ev.push(Evidence::new(
                            "plan",
                            format!("{name} ({friendly}) from licence {sku}"),
                        ));
                    }
                }
            }
        }
    }
    (usable_plans, ev)
}

pub(crate) async fn run(cx: &Arc<Ctx>) -> Finding {
    if cx.target.mailbox.is_none() {
        return Finding::skip(CHECK, "no sending mailbox was given (--mailbox)");
    }
    if let LookupToken::Unavailable(why) = cx.lookup_token().await {
        return Finding::skip(CHECK, format!("the licences cannot be read: {why}"));
    }
    let user = match read(cx.user_reply().await, GraphOp::UserLookup) {
        Read::Ok(reply) => match reply.json::<UserRecord>() {
            Some(u) => u,
            None => {
                return Ctx::internal(
                    CHECK,
                    format!(
                        "the user record is not the JSON Graph sends ({})",
                        reply.shape()
                    ),
                );
            }
        },
        Read::Rule { rule, evidence, .. } => {
            let mut f = Finding::skip(CHECK, format!("the user record could not be read ({rule})"));
            f.evidence = evidence;
            return f;
        }
        Read::Inconclusive(why) => {
            return Finding::skip(CHECK, format!("the user record could not be read: {why}"));
        }
    };
    // A shared mailbox needs no licence (up to 50 GB).
    let kind = match read(cx.settings_reply().await, GraphOp::MailboxSettings) {
        Read::Ok(reply) => mailbox::purpose(reply.json::<serde_json::Value>().as_ref()),
        _ => MailboxKind::Unknown,
    };
    if kind == MailboxKind::Shared {
        return Finding::pass(CHECK, "shared mailbox: no licence needed up to 50 GB");
    }
    let (plans, evidence) = mailbox_plans(&user);
    if plans.is_empty() && kind == MailboxKind::Unknown && user.account_enabled == Some(false) {
        // Unlicensed and sign-in blocked is what a shared mailbox looks like; without
        // MailboxSettings.Read the type cannot be confirmed, so do not call it unlicensed.
        let mut f = Finding::skip(
            CHECK,
            "no Exchange plan, but the account looks like a shared mailbox (which needs none): its type is not readable",
        );
        f.evidence = evidence;
        return f;
    }
    let mut f = match plans.first() {
        Some(first) => Finding::pass(
            CHECK,
            format!("licensed for an Exchange Online mailbox ({first})"),
        ),
        None => cx.judged(
            CHECK,
            NO_LICENCE,
            "no service plan that gives an Exchange Online mailbox",
        ),
    };
    if evidence.is_empty() {
        f.evidence
            .push(Evidence::new("plans", "no Exchange plans assigned"));
    }
    f.evidence.extend(evidence);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(id: &str, status: &str) -> AssignedPlan {
        AssignedPlan {
            service: Some("exchange".into()),
            service_plan_id: Some(id.into()),
            capability_status: Some(status.into()),
            assigned_date_time: None,
        }
    }

    #[test]
    fn foundation_is_an_exchange_plan_without_a_mailbox() {
        let u = UserRecord {
            assigned_plans: vec![plan("113feb6c-3fe4-4440-bddc-54d774bf0318", "Enabled")],
            ..Default::default()
        };
        let (plans, ev) = mailbox_plans(&u);
        assert!(plans.is_empty());
        assert!(ev[0].value.contains("EXCHANGE_S_FOUNDATION"));
    }

    #[test]
    fn a_suspended_plan_does_not_count_but_grace_does() {
        let u = UserRecord {
            assigned_plans: vec![plan("9aaf7827-d63c-4b61-89c3-182f06f82e5c", "Suspended")],
            ..Default::default()
        };
        assert!(mailbox_plans(&u).0.is_empty());
        let u = UserRecord {
            assigned_plans: vec![plan("9AAF7827-D63C-4B61-89C3-182F06F82E5C", "Warning")],
            ..Default::default()
        };
        assert_eq!(mailbox_plans(&u).0, vec!["EXCHANGE_S_STANDARD"]);
    }

    #[test]
    fn licences_without_plans_respect_disabled_plans() {
        let lic = |disabled: Vec<String>| crate::facts::AssignedLicense {
            sku_id: Some("6fd2c87f-b296-42f0-b197-1e91e994b900".into()),
            disabled_plans: disabled,
        };
        let u = UserRecord {
            assigned_licenses: vec![lic(vec![])],
            ..Default::default()
        };
        assert_eq!(mailbox_plans(&u).0, vec!["EXCHANGE_S_ENTERPRISE"]);
        let u = UserRecord {
            assigned_licenses: vec![lic(vec!["efb87545-963c-4e0d-99df-69c6916d9eb0".into()])],
            ..Default::default()
        };
        assert!(mailbox_plans(&u).0.is_empty());
    }
}
