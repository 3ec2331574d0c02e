//! What only the customer knows about an app: the contract behind it. Licences bought, the
//! price and how it is billed, when it renews, who owns it. okwatch lays usage from the System
//! Log over these to say what is spent, what is unused and what could be saved.

use crate::StoreError;
use serde::{Deserialize, Serialize};

/// How a contract's price is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    /// The price is per licence per month.
    LicenceMonth,
    /// The price is per licence per year.
    LicenceYear,
    /// The price is the whole contract's, per month.
    ContractMonth,
    /// The price is the whole contract's, per year.
    ContractYear,
}

impl Billing {
    /// Every kind, in the order forms list them.
    pub const ALL: [Billing; 4] = [
        Billing::LicenceMonth,
        Billing::LicenceYear,
        Billing::ContractMonth,
        Billing::ContractYear,
    ];

    /// Its name in the API, CSV files and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Billing::LicenceMonth => "licence_month",
            Billing::LicenceYear => "licence_year",
            Billing::ContractMonth => "contract_month",
            Billing::ContractYear => "contract_year",
        }
    }

    /// What people read: `per licence per month`.
    pub fn describe(self) -> &'static str {
        match self {
            Billing::LicenceMonth => "per licence per month",
            Billing::LicenceYear => "per licence per year",
            Billing::ContractMonth => "per month for the contract",
            Billing::ContractYear => "per year for the contract",
        }
    }

    /// The kind named `name` (as [`Billing::as_str`] gives it).
    pub fn from_name(name: &str) -> Option<Billing> {
        Billing::ALL.into_iter().find(|b| b.as_str() == name)
    }

    /// Whether the price is per licence (so fewer licences cost less).
    pub fn per_licence(self) -> bool {
        matches!(self, Billing::LicenceMonth | Billing::LicenceYear)
    }

    /// Billing periods in a year.
    pub fn per_year(self) -> i64 {
        match self {
            Billing::LicenceMonth | Billing::ContractMonth => 12,
            Billing::LicenceYear | Billing::ContractYear => 1,
        }
    }
}

/// One app's contract in one org. Every fact but the app is optional: people fill in what they
/// know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    /// The org whose app it is.
    pub org: String,
    /// The app's Okta id (`0oa…`), or `okta` for the Okta org's own licences.
    pub app_id: String,
    /// Licences bought.
    pub licences: Option<u64>,
    /// The price in hundredths of the currency (cents), billed as `billing` says. Whole
    /// hundredths: money is never a float.
    pub price_cents: Option<i64>,
    /// How the price is billed.
    pub billing: Billing,
    /// ISO 4217 (`USD`, `EUR`).
    pub currency: String,
    /// When the contract renews (`YYYY-MM-DD`).
    pub renewal: Option<String>,
    /// Days before the renewal its notice is sent.
    pub notice_days: u32,
    /// Who owns the contract (a person, an e-mail, a team).
    pub owner: Option<String>,
    /// Anything else.
    pub notes: Option<String>,
    /// When it was last changed (ISO 8601).
    pub updated: String,
    /// Who changed it (a console user, a token's owner, or `import`).
    pub updated_by: String,
}

/// The contracts of apps.
pub trait Contracts: Send + Sync {
    /// Keeps these contracts, each replacing the one of its org and app, all or none (one
    /// transaction: an import lands whole).
    fn put_contracts(&self, contracts: &[Contract]) -> Result<(), StoreError>;
    /// One app's contract.
    fn contract(&self, org: &str, app_id: &str) -> Result<Option<Contract>, StoreError>;
    /// Every contract of `org` (of every org with `None`), by org and app.
    fn contracts(&self, org: Option<&str>) -> Result<Vec<Contract>, StoreError>;
    /// Forgets one app's contract; whether there was one.
    fn delete_contract(&self, org: &str, app_id: &str) -> Result<bool, StoreError>;
}
