//! Fixed reference data the synthetic org is drawn from: names, places, browsers, apps.

/// Given names.
pub const FIRST_NAMES: &[&str] = &[
    "Ana", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Isabel", "Jamal", "Kate",
    "Liam", "Maya", "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
    "Will", "Ximena", "Yusuf", "Zoe", "Aisha", "Bruno", "Carmen", "David", "Emma", "Felix", "Gita",
    "Hannah", "Ivan", "Julia", "Kenji", "Lena", "Marco", "Nina", "Omar", "Priya", "Rahul", "Sofia",
    "Tomas", "Uma", "Viktor", "Wen", "Yara", "Zain",
];

/// Family names.
pub const LAST_NAMES: &[&str] = &[
    "Lima", "Smith", "Nguyen", "Garcia", "Muller", "Rossi", "Kowalski", "Tanaka", "Okafor",
    "Johnson", "Silva", "Chen", "Patel", "Kim", "Brown", "Dubois", "Jensen", "Novak", "Haddad",
    "Ivanova", "Schmidt", "Lopez", "Williams", "Sato", "Mensah", "Cohen", "Andersen", "Costa",
    "Murphy", "Fischer", "Singh", "Ali", "Wong", "Martin", "Moreau", "Kaur", "Park", "Reyes",
];

/// A place a user lives or a request comes from.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    /// City.
    pub city: &'static str,
    /// State or region, full name.
    pub state: &'static str,
    /// Country, full name.
    pub country: &'static str,
    /// Postal code.
    pub postal: &'static str,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// First two octets of IPs there.
    pub ip_prefix: &'static str,
    /// Autonomous system number.
    pub asn: i64,
    /// ISP / AS organisation.
    pub isp: &'static str,
    /// UTC offset in hours (for the working day).
    pub utc_offset: i64,
}

macro_rules! place {
    ($city:literal, $state:literal, $country:literal, $postal:literal, $lat:literal, $lon:literal, $ip:literal, $asn:literal, $isp:literal, $tz:literal) => {
        Place {
            city: $city,
            state: $state,
            country: $country,
            postal: $postal,
            lat: $lat,
            lon: $lon,
            ip_prefix: $ip,
            asn: $asn,
            isp: $isp,
            utc_offset: $tz,
        }
    };
}

/// Where employees work from (weights favour the first, head-office, entries).
pub const OFFICES: &[Place] = &[
    place!(
        "San Francisco",
        "California",
        "United States",
        "94107",
        37.7749,
        -122.4194,
        "104.28",
        7922,
        "comcast cable communications llc",
        -8
    ),
    place!(
        "New York",
        "New York",
        "United States",
        "10013",
        40.7128,
        -74.006,
        "72.229",
        701,
        "verizon business",
        -5
    ),
    place!(
        "Austin",
        "Texas",
        "United States",
        "78701",
        30.2672,
        -97.7431,
        "99.105",
        7018,
        "at&t services inc.",
        -6
    ),
    place!(
        "Chicago",
        "Illinois",
        "United States",
        "60601",
        41.8781,
        -87.6298,
        "73.44",
        7922,
        "comcast cable communications llc",
        -6
    ),
    place!(
        "Seattle",
        "Washington",
        "United States",
        "98101",
        47.6062,
        -122.3321,
        "50.35",
        20115,
        "charter communications",
        -8
    ),
    place!(
        "Toronto",
        "Ontario",
        "Canada",
        "M5H",
        43.6532,
        -79.3832,
        "99.230",
        812,
        "rogers communications canada inc.",
        -5
    ),
    place!(
        "London",
        "England",
        "United Kingdom",
        "EC1A",
        51.5074,
        -0.1278,
        "81.2",
        2856,
        "british telecommunications plc",
        0
    ),
    place!(
        "Dublin",
        "Leinster",
        "Ireland",
        "D02",
        53.3498,
        -6.2603,
        "86.44",
        5466,
        "eircom limited",
        0
    ),
    place!(
        "Berlin",
        "Berlin",
        "Germany",
        "10115",
        52.52,
        13.405,
        "91.64",
        3320,
        "deutsche telekom ag",
        1
    ),
    place!(
        "Paris",
        "Ile-de-France",
        "France",
        "75001",
        48.8566,
        2.3522,
        "90.12",
        3215,
        "orange s.a.",
        1
    ),
    place!(
        "Amsterdam",
        "North Holland",
        "Netherlands",
        "1012",
        52.3676,
        4.9041,
        "84.86",
        1136,
        "kpn b.v.",
        1
    ),
    place!(
        "Bangalore",
        "Karnataka",
        "India",
        "560001",
        12.9716,
        77.5946,
        "49.207",
        24560,
        "bharti airtel ltd.",
        5
    ),
    place!(
        "Singapore",
        "Central Singapore",
        "Singapore",
        "018956",
        1.3521,
        103.8198,
        "116.86",
        9506,
        "singtel fibre broadband",
        8
    ),
    place!(
        "Sydney",
        "New South Wales",
        "Australia",
        "2000",
        -33.8688,
        151.2093,
        "101.160",
        1221,
        "telstra corporation",
        10
    ),
    place!(
        "Sao Paulo",
        "Sao Paulo",
        "Brazil",
        "01000",
        -23.5505,
        -46.6333,
        "177.33",
        28573,
        "claro s.a.",
        -3
    ),
];

/// Weights for [`OFFICES`].
pub const OFFICE_WEIGHTS: &[f64] = &[
    30.0, 14.0, 8.0, 6.0, 6.0, 5.0, 9.0, 3.0, 4.0, 3.0, 2.0, 5.0, 2.0, 2.0, 1.0,
];

/// Places that attackers' and travellers' requests come from.
pub const FOREIGN: &[Place] = &[
    place!(
        "Lagos",
        "Lagos",
        "Nigeria",
        "100001",
        6.4541,
        3.3947,
        "102.89",
        29465,
        "mtn nigeria",
        1
    ),
    place!("Moscow", "Moscow", "Russia", "101000", 55.7558, 37.6173, "95.165", 8359, "mts pjsc", 3),
    place!(
        "Beijing",
        "Beijing",
        "China",
        "100000",
        39.9042,
        116.4074,
        "123.112",
        4808,
        "china unicom beijing",
        8
    ),
    place!(
        "Sao Paulo",
        "Sao Paulo",
        "Brazil",
        "01000",
        -23.5505,
        -46.6333,
        "189.6",
        27699,
        "telefonica brasil s.a.",
        -3
    ),
    place!(
        "Hanoi",
        "Hanoi",
        "Vietnam",
        "100000",
        21.0278,
        105.8342,
        "113.190",
        7552,
        "viettel group",
        7
    ),
    place!(
        "Bucharest",
        "Bucuresti",
        "Romania",
        "010011",
        44.4268,
        26.1025,
        "89.136",
        8708,
        "rcs & rds s.a.",
        2
    ),
    place!(
        "Tokyo",
        "Tokyo",
        "Japan",
        "100-0001",
        35.6762,
        139.6503,
        "126.72",
        17676,
        "softbank corp.",
        9
    ),
    place!(
        "Mexico City",
        "Mexico City",
        "Mexico",
        "06000",
        19.4326,
        -99.1332,
        "187.190",
        8151,
        "uninet s.a. de c.v.",
        -6
    ),
];

/// A browser on an OS, as Okta reports it.
#[derive(Debug, Clone, Copy)]
pub struct Agent {
    /// The raw `User-Agent` header.
    pub raw: &'static str,
    /// Okta's OS name.
    pub os: &'static str,
    /// Okta's browser name.
    pub browser: &'static str,
    /// `Computer` or `Mobile`.
    pub device: &'static str,
}

/// Common desktop and mobile clients.
pub const AGENTS: &[Agent] = &[
    Agent { raw: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", os: "Mac OS X", browser: "CHROME", device: "Computer" },
    Agent { raw: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", os: "Windows 10", browser: "CHROME", device: "Computer" },
    Agent { raw: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", os: "Windows 10", browser: "EDGE_CHROMIUM", device: "Computer" },
    Agent { raw: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", os: "Mac OS X", browser: "SAFARI", device: "Computer" },
    Agent { raw: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", os: "Windows 10", browser: "FIREFOX", device: "Computer" },
    Agent { raw: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", os: "Linux", browser: "CHROME", device: "Computer" },
    Agent { raw: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", os: "iOS", browser: "MOBILE_SAFARI", device: "Mobile" },
    Agent { raw: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", os: "Android", browser: "CHROME", device: "Mobile" },
];

/// Clients attackers use.
pub const ATTACK_AGENTS: &[Agent] = &[
    Agent {
        raw: "python-requests/2.31.0",
        os: "Unknown",
        browser: "UNKNOWN",
        device: "Unknown",
    },
    Agent {
        raw: "Go-http-client/1.1",
        os: "Unknown",
        browser: "UNKNOWN",
        device: "Unknown",
    },
    Agent {
        raw: "curl/8.4.0",
        os: "Unknown",
        browser: "UNKNOWN",
        device: "Unknown",
    },
];

/// A SaaS application in the org's catalogue.
#[derive(Debug, Clone, Copy)]
pub struct AppSpec {
    /// Display name.
    pub label: &'static str,
    /// Okta integration name.
    pub name: &'static str,
    /// Share of users assigned.
    pub reach: f64,
    /// How often an assigned user opens it on a working day.
    pub daily_use: f64,
    /// SAML or OIDC.
    pub protocol: &'static str,
}

/// The org's applications.
pub const APPS: &[AppSpec] = &[
    AppSpec {
        label: "Google Workspace",
        name: "google",
        reach: 1.0,
        daily_use: 0.9,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Slack",
        name: "slack",
        reach: 0.98,
        daily_use: 0.95,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Zoom",
        name: "zoomus",
        reach: 0.95,
        daily_use: 0.6,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Jira",
        name: "jira_onprem",
        reach: 0.55,
        daily_use: 0.8,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Confluence",
        name: "confluence",
        reach: 0.6,
        daily_use: 0.4,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "GitHub Enterprise",
        name: "githubent",
        reach: 0.35,
        daily_use: 0.85,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Salesforce",
        name: "salesforce",
        reach: 0.3,
        daily_use: 0.85,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Workday",
        name: "workday",
        reach: 1.0,
        daily_use: 0.05,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Box",
        name: "boxnet",
        reach: 0.5,
        daily_use: 0.2,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "AWS IAM Identity Center",
        name: "amazon_aws_sso",
        reach: 0.25,
        daily_use: 0.6,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Zendesk",
        name: "zendesk",
        reach: 0.15,
        daily_use: 0.9,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "DocuSign",
        name: "docusign",
        reach: 0.4,
        daily_use: 0.05,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Tableau Cloud",
        name: "tableau_online",
        reach: 0.3,
        daily_use: 0.15,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Figma",
        name: "figma",
        reach: 0.25,
        daily_use: 0.4,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Notion",
        name: "notion",
        reach: 0.45,
        daily_use: 0.3,
        protocol: "OIDC",
    },
    AppSpec {
        label: "Asana",
        name: "asana",
        reach: 0.35,
        daily_use: 0.25,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Microsoft 365",
        name: "office365",
        reach: 0.7,
        daily_use: 0.5,
        protocol: "WS_FEDERATION",
    },
    AppSpec {
        label: "ServiceNow",
        name: "servicenow_ud",
        reach: 0.3,
        daily_use: 0.2,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "HubSpot",
        name: "hubspot",
        reach: 0.15,
        daily_use: 0.5,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Adobe Creative Cloud",
        name: "adobe_cc",
        reach: 0.12,
        daily_use: 0.1,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Miro",
        name: "miro",
        reach: 0.4,
        daily_use: 0.1,
        protocol: "SAML_2_0",
    },
    AppSpec {
        label: "Datadog",
        name: "datadog",
        reach: 0.2,
        daily_use: 0.45,
        protocol: "SAML_2_0",
    },
];

/// Groups every org has.
pub const GROUPS: &[&str] = &[
    "Everyone",
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "People",
    "IT",
    "Support",
    "Contractors",
    "Admins",
];

/// MFA factors: (Okta debugData factor name, credential type, share of users).
pub const FACTORS: &[(&str, Option<&str>, f64)] = &[
    ("OKTA_VERIFY_PUSH", Some("OTP"), 0.55),
    // Okta's schema has no credentialType for WebAuthn or Okta Verify's signed nonce (its
    // enum, which the Python SDK enforces, stops at the values below); the factor in
    // debugData says which it was.
    ("FIDO_WEBAUTHN", None, 0.2),
    ("SIGNED_NONCE", None, 0.15),
    ("SMS_FACTOR", Some("SMS"), 0.07),
    ("GOOGLE_OTP", Some("OTP"), 0.03),
];
