//! Who may do what: the roles of the domain reference and the scope a token carries.

text_enum! {
    pub enum Role {
        Implementer = "implementer",
        Secretary = "secretary",
        Head = "head",
        Treasurer = "treasurer",
        Inspector = "inspector",
        Bank = "bank",
        Admin = "admin",
    }
}

impl Role {
    /// The roles that belong to exactly one village.
    pub fn is_village_role(self) -> bool {
        matches!(self, Role::Implementer | Role::Secretary | Role::Head | Role::Treasurer)
    }
}
