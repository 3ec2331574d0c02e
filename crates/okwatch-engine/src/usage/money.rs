//! Money, in whole hundredths of a currency: read from what people type, written as people
//! read it, and what a contract costs a year against what is used.

use okwatch_store::{Billing, Contract};
use serde::Serialize;

/// The most a price may be: ten billion in any currency, far beyond any contract, and far
/// below where a year of it would overflow.
const MAX_CENTS: i64 = 1_000_000_000_000;

/// `12`, `12.5`, `1,200.50`, `1 200.50` → hundredths. A currency sign, a minus or a third
/// decimal is refused with the reason.
pub fn parse_cents(text: &str) -> Result<i64, String> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '_' | '\u{a0}'))
        .collect();
    let bad = || {
        format!(
            "`{text}` is not an amount: write digits with at most two decimals, such as 1200.50"
        )
    };
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    if fraction.len() > 2 {
        return Err(format!("`{text}` has more than two decimals"));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let cents = format!("{fraction:0<2}")
        .parse::<i64>()
        .map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .filter(|c| *c <= MAX_CENTS)
        .ok_or_else(|| format!("`{text}` is more than any contract costs"))
}

/// `1,200.50`: hundredths as people read them, with thousands separated.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02}", cents % 100)
}

/// `USD 1,200.50`.
pub fn format_money(cents: i64, currency: &str) -> String {
    format!("{currency} {}", format_cents(cents))
}

/// What an app's contract costs and what is unused, a year at a time. Amounts in hundredths of
/// `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spend {
    pub currency: String,
    /// A year of the contract: the price times its periods a year, times the licences when it
    /// is per licence (times the people assigned when the licences are not known).
    pub annual_cents: i64,
    /// What one licence costs a year: the price of one, or the contract's share per licence.
    pub licence_annual_cents: Option<i64>,
    /// A year's spend over the people active in 30 days.
    pub per_active_user_cents: Option<i64>,
    /// Licences nobody used in 30 days: bought minus active, or (licences unknown) assigned
    /// people idle 30 days.
    pub unused: u64,
    /// What those unused licences cost a year: saved by not renewing them.
    pub savings_cents: Option<i64>,
    /// What the licence count is: `licences` (bought) or `assigned` (not known, so the people
    /// assigned stand in).
    pub seats_from: &'static str,
}

/// What `contract` costs with `assigned` people assigned, `active` active in 30 days and
/// `idle` of the assigned idle 30 days; `None` without a price.
pub fn spend(contract: &Contract, assigned: u64, active: u64, idle: u64) -> Option<Spend> {
    let price = contract.price_cents?;
    let (seats, seats_from) = match contract.licences {
        Some(licences) => (licences, "licences"),
        None => (assigned, "assigned"),
    };
    let seats = i64::try_from(seats).unwrap_or(i64::MAX);
    let periods = contract.billing.per_year();
    let annual = if contract.billing.per_licence() {
        price.saturating_mul(periods).saturating_mul(seats)
    } else {
        price.saturating_mul(periods)
    };
    let licence_annual = match contract.billing {
        Billing::LicenceMonth | Billing::LicenceYear => Some(price.saturating_mul(periods)),
        // A contract's price shared by the licences it buys, when they are known.
        Billing::ContractMonth | Billing::ContractYear => contract
            .licences
            .filter(|l| *l > 0)
            .map(|l| annual / i64::try_from(l).unwrap_or(i64::MAX)),
    };
    let unused = match contract.licences {
        Some(licences) => licences.saturating_sub(active),
        None => idle,
    };
    Some(Spend {
        currency: contract.currency.clone(),
        annual_cents: annual,
        licence_annual_cents: licence_annual,
        per_active_user_cents: (active > 0).then(|| annual / active as i64),
        unused,
        savings_cents: licence_annual.map(|l| l.saturating_mul(unused as i64)),
        seats_from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(licences: Option<u64>, price: i64, billing: Billing) -> Contract {
        Contract {
            org: "acme".into(),
            app_id: "0oa1".into(),
            licences,
            price_cents: Some(price),
            billing,
            currency: "EUR".into(),
            renewal: None,
            notice_days: 30,
            owner: None,
            notes: None,
            updated: String::new(),
            updated_by: String::new(),
        }
    }

    #[test]
    fn amounts_are_read_to_the_cent_and_refused_with_a_reason() {
        assert_eq!(parse_cents("12"), Ok(1200));
        assert_eq!(parse_cents("12.5"), Ok(1250));
        assert_eq!(parse_cents(" 1,200.05 "), Ok(120_005));
        assert_eq!(parse_cents(".5"), Ok(50));
        assert!(parse_cents("12.345").unwrap_err().contains("two decimals"));
        assert!(parse_cents("$12").unwrap_err().contains("not an amount"));
        assert!(parse_cents("-3").is_err());
        assert!(parse_cents("").is_err());
        assert!(parse_cents("99999999999999").is_err());
        assert_eq!(format_cents(120_005), "1,200.05");
        assert_eq!(format_cents(99), "0.99");
        assert_eq!(format_cents(100_000_000), "1,000,000.00");
        assert_eq!(format_money(-1250, "USD"), "USD -12.50");
    }

    #[test]
    fn a_year_of_each_billing_and_what_unused_licences_cost() {
        // 50 licences at 8.00 a month, 30 active: 4,800 a year, 20 unused, 1,920 to save.
        let s = spend(&contract(Some(50), 800, Billing::LicenceMonth), 45, 30, 12).unwrap();
        assert_eq!(
            (
                s.annual_cents,
                s.licence_annual_cents,
                s.unused,
                s.savings_cents
            ),
            (480_000, Some(9_600), 20, Some(192_000))
        );
        assert_eq!(s.per_active_user_cents, Some(16_000));
        // Licences not known: the assigned stand in, the idle are the unused.
        let s = spend(&contract(None, 10_000, Billing::LicenceYear), 40, 30, 12).unwrap();
        assert_eq!(
            (s.annual_cents, s.unused, s.savings_cents),
            (400_000, 12, Some(120_000))
        );
        assert_eq!(s.seats_from, "assigned");
        // A contract price: shared by its licences when known, no per-licence saving otherwise.
        let s = spend(
            &contract(Some(100), 1_200_000, Billing::ContractYear),
            90,
            0,
            90,
        )
        .unwrap();
        assert_eq!(
            (s.annual_cents, s.licence_annual_cents),
            (1_200_000, Some(12_000))
        );
        assert_eq!(
            (s.unused, s.savings_cents, s.per_active_user_cents),
            (100, Some(1_200_000), None)
        );
        let s = spend(&contract(None, 100_000, Billing::ContractMonth), 10, 5, 5).unwrap();
        assert_eq!((s.annual_cents, s.savings_cents), (1_200_000, None));
        let mut free = contract(Some(5), 0, Billing::LicenceMonth);
        free.price_cents = None;
        assert_eq!(spend(&free, 5, 5, 0), None);
    }
}
