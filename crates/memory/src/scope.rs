//! Whose threads a call may see: every store method takes a [`Scope`], so no query can be
//! written without saying whose data it reads or writes.

/// The resources a caller may read and write.
///
/// A server derives it from the authenticated user ([`Scope::resource`] with the user's
/// resource id) or, for principals given cross-resource access and for a server without
/// authentication, [`Scope::unrestricted`]. A store answers "not found" for a thread outside the
/// scope, exactly as for a thread that does not exist.
#[derive(Clone, PartialEq, Eq)]
pub struct Scope(Kind);

#[derive(Clone, PartialEq, Eq)]
enum Kind {
    Resource(String),
    Unrestricted,
}

impl Scope {
    /// Only the threads of `resource_id`.
    pub fn resource(resource_id: impl Into<String>) -> Self {
        Scope(Kind::Resource(resource_id.into()))
    }

    /// Every resource's threads (auth turned off, or a principal with cross-resource access).
    pub fn unrestricted() -> Self {
        Scope(Kind::Unrestricted)
    }

    /// The one resource this scope is limited to; `None` when unrestricted.
    pub fn resource_id(&self) -> Option<&str> {
        match &self.0 {
            Kind::Resource(r) => Some(r),
            Kind::Unrestricted => None,
        }
    }

    /// Whether data of `resource_id` is inside this scope.
    pub fn admits(&self, resource_id: &str) -> bool {
        match &self.0 {
            Kind::Resource(r) => r == resource_id,
            Kind::Unrestricted => true,
        }
    }
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Kind::Resource(r) => f.debug_tuple("Scope::resource").field(r).finish(),
            Kind::Unrestricted => f.write_str("Scope::unrestricted"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_scope_admits_only_its_resource() {
        let s = Scope::resource("alice");
        assert!(s.admits("alice"));
        assert!(!s.admits("bob"));
        assert!(!s.admits(""));
        assert!(!s.admits("alice "));
        assert_eq!(s.resource_id(), Some("alice"));
    }

    #[test]
    fn unrestricted_admits_everyone() {
        let s = Scope::unrestricted();
        assert!(s.admits("alice") && s.admits("bob"));
        assert_eq!(s.resource_id(), None);
    }
}
