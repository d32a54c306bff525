//! The verified identity handed to authorization and to handlers.

use std::sync::Arc;

use serde_json::{Map, Value};

/// A verified user: who they are, what the identity provider asserted, and which provider said so.
///
/// Cheap to clone (the claims are shared): a cached user is cloned into every request it
/// authenticates. Read claims through the field (`user.claims["role"]`, `user.claims.get(..)`);
/// change them with [`User::claims_mut`] (copy-on-write).
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// Stable identifier (`sub` for JWTs); empty when the credential carries none.
    pub id: String,
    /// The verified claims, exactly as the provider asserted them.
    pub claims: Arc<Map<String, Value>>,
    /// Name of the provider that authenticated this user.
    pub provider: Arc<str>,
}

impl User {
    /// Builds a user from verified JWT claims: the id is `sub`, else a string `id` claim.
    pub fn from_claims(claims: Map<String, Value>, provider: Arc<str>) -> Self {
        let id = ["sub", "id"]
            .iter()
            .find_map(|k| claims.get(*k).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        Self {
            id,
            claims: Arc::new(claims),
            provider,
        }
    }

    /// The claims, for changing them (copies them first if another clone shares them).
    pub fn claims_mut(&mut self) -> &mut Map<String, Value> {
        Arc::make_mut(&mut self.claims)
    }

    /// A claim by name.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// The user as one JSON object `{id, provider, claims}` (what rule conditions see as `user`).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "provider": &*self.provider,
            "claims": &*self.claims,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn id_comes_from_sub_then_id() {
        let u = User::from_claims(claims(json!({"sub": "a", "id": "b"})), "jwt".into());
        assert_eq!(u.id, "a");
        let u = User::from_claims(claims(json!({"id": "b"})), "jwt".into());
        assert_eq!(u.id, "b");
        let u = User::from_claims(claims(json!({"sub": 5})), "jwt".into());
        assert_eq!(u.id, "");
    }

    #[test]
    fn clones_share_claims_until_changed() {
        let a = User::from_claims(claims(json!({"sub": "a", "role": "x"})), "jwt".into());
        let mut b = a.clone();
        assert!(Arc::ptr_eq(&a.claims, &b.claims));
        b.claims_mut().insert("role".into(), json!("y"));
        assert_eq!(a.claims["role"], "x");
        assert_eq!(b.claims["role"], "y");
        assert_eq!(a.to_json()["claims"]["role"], "x");
    }
}
