//! Who an account is and which division level it works at: the vocabulary the sync server's
//! authorisation and reports, the phone and the dashboard share.
//!
//! [`Role`] is an account's role (DOMAIN §1): the three cadre roles of a village work team,
//! the supervisors above them, and the administrator who creates reference data; [`ScopeLevel`] is a level of the administrative
//! division tree (village, township, county, city), and it is the one place that says how many
//! digits a level's code has ([`ScopeLevel::code_len`]: 12, 9, 6, 4). Both are code lists
//! (`code_enum!`): a stored code, a Chinese and an English label, exported to TypeScript.
//!
//! Not here: what a role may read or write (the server's `accounts`), nor how a report's scope
//! is parsed from text (the server's reports).

use std::str::FromStr;

use crate::values::code_enum;

code_enum! {
    /// What an account is (DOMAIN §1).
    pub enum Role {
        Admin = "admin", "管理员", "Administrator";
        FirstSecretary = "first_secretary", "第一书记", "First secretary";
        TeamMember = "team_member", "驻村工作队员", "Team member";
        PairingCadre = "pairing_cadre", "帮扶干部", "Pairing cadre";
        Township = "township", "乡镇", "Township";
        CountyOffice = "county_office", "县扶贫办", "County poverty office";
        CountyOrg = "county_org", "县委组织部", "County organisation department";
        City = "city", "市", "City";
    }
}

impl Role {
    /// Supervisors read a division; cadres read their team's villages or their households.
    pub fn is_supervisor(self) -> bool {
        matches!(
            self,
            Role::Township | Role::CountyOffice | Role::CountyOrg | Role::City | Role::Admin
        )
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::from_code(s)
            .ok_or_else(|| format!("unknown role `{s}` (one of {})", Role::CODES.join(", ")))
    }
}

code_enum! {
    /// A level of the administrative division tree: a report's scope or an account's division.
    pub enum ScopeLevel {
        Village = "village", "行政村", "Village";
        Township = "township", "乡镇", "Township";
        County = "county", "县", "County";
        City = "city", "市", "City";
    }
}

impl ScopeLevel {
    /// Digits of the administrative code at this level (village 12, township 9, county 6,
    /// city 4: the prefixes accounts' divisions use). The only place these lengths are written.
    pub const fn code_len(self) -> usize {
        match self {
            ScopeLevel::Village => 12,
            ScopeLevel::Township => 9,
            ScopeLevel::County => 6,
            ScopeLevel::City => 4,
        }
    }

    /// The code of this level that `code` lies in (`530326` for county and `530326126203`),
    /// `None` when `code` is shorter than this level's.
    pub fn part_of(self, code: &str) -> Option<&str> {
        code.get(..self.code_len())
    }

    /// Above the township, sensitive personal information is masked (DOMAIN §1).
    pub fn above_township(self) -> bool {
        matches!(self, ScopeLevel::County | ScopeLevel::City)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_codes_and_name_the_choices_otherwise() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), *r);
        }
        let err = "mayor".parse::<Role>().unwrap_err();
        assert!(
            err.contains("mayor") && err.contains("county_office"),
            "{err}"
        );
    }

    #[test]
    fn levels_cut_a_village_code_into_its_divisions() {
        let village = "530326126203";
        let parts: Vec<_> = ScopeLevel::ALL
            .iter()
            .map(|l| l.part_of(village).unwrap())
            .collect();
        assert_eq!(parts, ["530326126203", "530326126", "530326", "5303"]);
        assert_eq!(ScopeLevel::County.part_of("5303"), None);
        assert_eq!(
            serde_json::to_string(&ScopeLevel::County).unwrap(),
            "\"county\""
        );
    }
}
