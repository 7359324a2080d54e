//! The import/export declaration lifecycle as a pure state machine.
//!
//! ```text
//! Submitted ──accept──▶ Accepted ──assess duties (import)──▶ DutiesAssessed
//!     │                    │  ▲ amend (re-assess)               │
//!   reject                 ├──┴──── control ─▶ UnderControl ◀───┤
//!     ▼                    │                     │  ▲           │
//!  Rejected                │   require documents ▼  │ supplied  │
//!                          │            DocumentsRequired       │
//!                          └── release (export; import only ────┘
//!                                once duties are assessed) ─▶ Released ─clear─▶ Cleared
//! cancel (trader) / invalidate (officer) before release ─▶ Invalidated
//! ```
//!
//! A trader's cancellation of a declaration that is not under control
//! invalidates it at once; under control it waits for an officer's decision
//! ([`DmsEvent::Invalidate`] or [`DmsEvent::RefuseCancellation`]). An event
//! that does not fit the state, or comes from the wrong actor, is refused
//! with a [`LifecycleError`] (error 92, message out of sequence).

use serde::Serialize;

use super::notify::NotificationKind;

/// Import or export: imports go through duty assessment before release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Direction {
    Import,
    Export,
}

/// The states of a DMS declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DmsState {
    Submitted,
    /// Legally accepted, MRN allocated.
    Accepted,
    /// Import duties assessed (DMSTAX sent).
    DutiesAssessed,
    /// Goods to be examined.
    UnderControl,
    /// Documents required from the trader.
    DocumentsRequired,
    Released,
    Cleared,
    Rejected,
    Invalidated,
}

impl DmsState {
    /// No event is accepted any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DmsState::Cleared | DmsState::Rejected | DmsState::Invalidated
        )
    }
}

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Actor {
    Trader,
    Officer,
    /// Portorium itself (automatic acceptance, duty calculation, risk lane).
    System,
}

/// The events of the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DmsEvent {
    /// The declaration passed validation: the MRN is allocated.
    Accept { mrn: String },
    /// The declaration failed validation.
    Reject,
    /// Duties assessed on an import (by the tariff service).
    AssessDuties,
    /// The goods are selected for examination.
    Control,
    /// Documents are required from the trader.
    RequireDocuments,
    /// The trader supplied the documents required.
    SupplyDocuments,
    /// The goods may be released.
    Release,
    /// The procedure is completed.
    Clear,
    /// The trader amends the declaration (a new version).
    Amend,
    /// The trader asks to cancel the declaration.
    Cancel,
    /// An officer invalidates the declaration (or grants a pending cancellation).
    Invalidate,
    /// An officer refuses a pending cancellation request.
    RefuseCancellation,
}

impl DmsEvent {
    /// Who may cause the event.
    pub fn actors(&self) -> &'static [Actor] {
        match self {
            DmsEvent::Accept { .. } | DmsEvent::Reject | DmsEvent::AssessDuties => {
                &[Actor::System, Actor::Officer]
            }
            DmsEvent::Control
            | DmsEvent::RequireDocuments
            | DmsEvent::Release
            | DmsEvent::Clear => &[Actor::Officer, Actor::System],
            DmsEvent::Invalidate | DmsEvent::RefuseCancellation => &[Actor::Officer],
            DmsEvent::SupplyDocuments | DmsEvent::Amend | DmsEvent::Cancel => &[Actor::Trader],
        }
    }

    fn name(&self) -> &'static str {
        match self {
            DmsEvent::Accept { .. } => "accept",
            DmsEvent::Reject => "reject",
            DmsEvent::AssessDuties => "assess duties",
            DmsEvent::Control => "control",
            DmsEvent::RequireDocuments => "require documents",
            DmsEvent::SupplyDocuments => "supply documents",
            DmsEvent::Release => "release",
            DmsEvent::Clear => "clear",
            DmsEvent::Amend => "amend",
            DmsEvent::Cancel => "cancel",
            DmsEvent::Invalidate => "invalidate",
            DmsEvent::RefuseCancellation => "refuse cancellation",
        }
    }
}

/// An event refused in the current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LifecycleError {
    pub state: DmsState,
    pub event: String,
    pub reason: String,
}

impl LifecycleError {
    /// The error code: 92, message out of sequence (issue 4, section 3).
    pub const CODE: &'static str = "92";
}

impl std::fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "error {}: cannot {} a declaration in state {:?}: {}",
            Self::CODE,
            self.event,
            self.state,
            self.reason
        )
    }
}

impl std::error::Error for LifecycleError {}

/// A declaration's position in its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmsLifecycle {
    pub direction: Direction,
    pub state: DmsState,
    pub mrn: Option<String>,
    /// 1 for the original, +1 per amendment.
    pub version: u32,
    /// Duties are assessed for the current version (imports).
    pub duties_assessed: bool,
    /// A trader's cancellation waits for an officer's decision.
    pub cancellation_pending: bool,
}

/// The result of an accepted event: the new lifecycle and the notification
/// to send the trader, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub lifecycle: DmsLifecycle,
    pub notification: Option<NotificationKind>,
}

impl DmsLifecycle {
    /// A freshly lodged declaration (notified as DMSRCV).
    pub fn submitted(direction: Direction) -> DmsLifecycle {
        DmsLifecycle {
            direction,
            state: DmsState::Submitted,
            mrn: None,
            version: 1,
            duties_assessed: false,
            cancellation_pending: false,
        }
    }

    /// Applies an event by an actor. Pure: `self` is not changed.
    pub fn apply(&self, actor: Actor, event: &DmsEvent) -> Result<Transition, LifecycleError> {
        use DmsState as S;
        let refuse = |reason: &str| LifecycleError {
            state: self.state,
            event: event.name().to_owned(),
            reason: reason.to_owned(),
        };
        if !event.actors().contains(&actor) {
            return Err(refuse(&format!("{actor:?} may not {}", event.name())));
        }
        if self.state.is_final() {
            return Err(refuse("the declaration's lifecycle is over"));
        }
        let before_release = matches!(
            self.state,
            S::Accepted | S::DutiesAssessed | S::UnderControl | S::DocumentsRequired
        );
        let mut next = self.clone();
        let notification = match (self.state, event) {
            (S::Submitted, DmsEvent::Accept { mrn }) => {
                if mrn.is_empty() {
                    return Err(refuse("an accepted declaration needs an MRN"));
                }
                next.state = S::Accepted;
                next.mrn = Some(mrn.clone());
                Some(NotificationKind::Accepted)
            }
            (S::Submitted, DmsEvent::Reject) => {
                next.state = S::Rejected;
                Some(NotificationKind::Rejected)
            }
            (S::Accepted | S::UnderControl, DmsEvent::AssessDuties) => {
                if self.direction == Direction::Export {
                    return Err(refuse("duties are assessed on imports only"));
                }
                next.duties_assessed = true;
                if self.state == S::Accepted {
                    next.state = S::DutiesAssessed;
                }
                Some(NotificationKind::DutiesAssessed)
            }
            (S::Accepted | S::DutiesAssessed | S::DocumentsRequired, DmsEvent::Control) => {
                next.state = S::UnderControl;
                Some(NotificationKind::UnderControl)
            }
            (S::Accepted | S::DutiesAssessed | S::UnderControl, DmsEvent::RequireDocuments) => {
                next.state = S::DocumentsRequired;
                Some(NotificationKind::DocumentsRequired)
            }
            (S::DocumentsRequired, DmsEvent::SupplyDocuments) => {
                next.state = S::UnderControl;
                None
            }
            (S::Accepted | S::DutiesAssessed | S::UnderControl, DmsEvent::Release) => {
                if self.direction == Direction::Import && !self.duties_assessed {
                    return Err(refuse(
                        "an import is released only once its duties are assessed",
                    ));
                }
                if self.cancellation_pending {
                    return Err(refuse("a cancellation request is pending"));
                }
                next.state = S::Released;
                Some(NotificationKind::Released)
            }
            (S::Released, DmsEvent::Clear) => {
                next.state = S::Cleared;
                Some(NotificationKind::Cleared)
            }
            (_, DmsEvent::Amend) if before_release => {
                next.version = self.version.saturating_add(1);
                if matches!(self.state, S::Accepted | S::DutiesAssessed) {
                    // The amended declaration is assessed again.
                    next.state = S::Accepted;
                    next.duties_assessed = false;
                }
                Some(NotificationKind::AmendmentAccepted)
            }
            (S::Accepted | S::DutiesAssessed, DmsEvent::Cancel) => {
                next.state = S::Invalidated;
                Some(NotificationKind::Invalidated)
            }
            (S::UnderControl | S::DocumentsRequired, DmsEvent::Cancel) => {
                if self.cancellation_pending {
                    return Err(refuse("a cancellation request is already pending"));
                }
                next.cancellation_pending = true;
                Some(NotificationKind::Received)
            }
            (_, DmsEvent::Invalidate) if before_release => {
                next.state = S::Invalidated;
                next.cancellation_pending = false;
                Some(NotificationKind::Invalidated)
            }
            (_, DmsEvent::RefuseCancellation) if before_release && self.cancellation_pending => {
                next.cancellation_pending = false;
                None
            }
            (S::Submitted, _) => return Err(refuse("the declaration is not accepted yet")),
            (S::Released, _) => return Err(refuse("the goods are already released")),
            _ => return Err(refuse("the event does not follow from the current state")),
        };
        Ok(Transition {
            lifecycle: next,
            notification,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Actor::{Officer, System, Trader};
    use DmsState as S;

    fn accept() -> DmsEvent {
        DmsEvent::Accept {
            mrn: "24GB34F7Y1O2CX8PT4".to_owned(),
        }
    }

    /// Applies `steps` in order from a fresh declaration of `direction`;
    /// each step expects the resulting state, or `Err(())` for a refusal
    /// (after which the lifecycle stays where it was).
    fn check(direction: Direction, steps: &[(Actor, DmsEvent, Result<S, ()>)]) -> DmsLifecycle {
        let mut lc = DmsLifecycle::submitted(direction);
        for (i, (actor, event, expected)) in steps.iter().enumerate() {
            match (lc.apply(*actor, event), expected) {
                (Ok(t), Ok(state)) => {
                    assert_eq!(t.lifecycle.state, *state, "step {i}: {event:?}");
                    lc = t.lifecycle;
                }
                (Err(e), Err(())) => {
                    assert_eq!(e.state, lc.state, "step {i}");
                    assert!(e.to_string().starts_with("error 92"), "{e}");
                }
                (got, want) => panic!(
                    "step {i}: {actor:?} {event:?} in {:?}: got {got:?}, want {want:?}",
                    lc.state
                ),
            }
        }
        lc
    }

    #[test]
    fn import_accept_assess_release_clear() {
        let lc = check(
            Direction::Import,
            &[
                (System, accept(), Ok(S::Accepted)),
                (Officer, DmsEvent::Release, Err(())),
                (System, DmsEvent::AssessDuties, Ok(S::DutiesAssessed)),
                (Officer, DmsEvent::Release, Ok(S::Released)),
                (Trader, DmsEvent::Cancel, Err(())),
                (Officer, DmsEvent::Invalidate, Err(())),
                (System, DmsEvent::Clear, Ok(S::Cleared)),
                (Officer, DmsEvent::Control, Err(())),
            ],
        );
        assert_eq!(lc.mrn.as_deref(), Some("24GB34F7Y1O2CX8PT4"));
        assert!(lc.duties_assessed);
    }

    #[test]
    fn export_is_released_without_duties() {
        check(
            Direction::Export,
            &[
                (System, accept(), Ok(S::Accepted)),
                (System, DmsEvent::AssessDuties, Err(())),
                (System, DmsEvent::Release, Ok(S::Released)),
                (Officer, DmsEvent::Clear, Ok(S::Cleared)),
            ],
        );
    }

    #[test]
    fn control_documents_and_release() {
        check(
            Direction::Import,
            &[
                (System, accept(), Ok(S::Accepted)),
                (System, DmsEvent::AssessDuties, Ok(S::DutiesAssessed)),
                (Officer, DmsEvent::Control, Ok(S::UnderControl)),
                (
                    Officer,
                    DmsEvent::RequireDocuments,
                    Ok(S::DocumentsRequired),
                ),
                (Officer, DmsEvent::Release, Err(())),
                (Officer, DmsEvent::SupplyDocuments, Err(())),
                (Trader, DmsEvent::SupplyDocuments, Ok(S::UnderControl)),
                (Officer, DmsEvent::Release, Ok(S::Released)),
            ],
        );
    }

    #[test]
    fn amendment_bumps_version_and_resets_assessment() {
        let lc = check(
            Direction::Import,
            &[
                (Trader, DmsEvent::Amend, Err(())),
                (System, accept(), Ok(S::Accepted)),
                (System, DmsEvent::AssessDuties, Ok(S::DutiesAssessed)),
                (Officer, DmsEvent::Amend, Err(())),
                (Trader, DmsEvent::Amend, Ok(S::Accepted)),
                (Officer, DmsEvent::Release, Err(())),
            ],
        );
        assert_eq!(lc.version, 2);
        assert!(!lc.duties_assessed);
    }

    #[test]
    fn cancellation_before_release() {
        check(
            Direction::Export,
            &[
                (Trader, DmsEvent::Cancel, Err(())),
                (System, accept(), Ok(S::Accepted)),
                (Trader, DmsEvent::Cancel, Ok(S::Invalidated)),
                (Trader, DmsEvent::Amend, Err(())),
            ],
        );
        let lc = check(
            Direction::Import,
            &[
                (System, accept(), Ok(S::Accepted)),
                (Officer, DmsEvent::Control, Ok(S::UnderControl)),
                (Trader, DmsEvent::Cancel, Ok(S::UnderControl)),
                (Trader, DmsEvent::Cancel, Err(())),
                (System, DmsEvent::AssessDuties, Ok(S::UnderControl)),
                (Officer, DmsEvent::Release, Err(())),
                (Officer, DmsEvent::RefuseCancellation, Ok(S::UnderControl)),
                (Officer, DmsEvent::RefuseCancellation, Err(())),
                (Officer, DmsEvent::Invalidate, Ok(S::Invalidated)),
            ],
        );
        assert!(!lc.cancellation_pending);
    }

    #[test]
    fn rejection_is_final_and_actors_are_checked() {
        check(
            Direction::Import,
            &[
                (Trader, accept(), Err(())),
                (Trader, DmsEvent::Reject, Err(())),
                (System, DmsEvent::Reject, Ok(S::Rejected)),
                (System, accept(), Err(())),
            ],
        );
        let lc = DmsLifecycle::submitted(Direction::Import);
        let e = lc
            .apply(System, &DmsEvent::Accept { mrn: String::new() })
            .unwrap_err();
        assert!(e.reason.contains("MRN"));
    }

    #[test]
    fn transitions_name_their_notification() {
        let lc = DmsLifecycle::submitted(Direction::Import);
        let t = lc.apply(System, &accept()).unwrap();
        assert_eq!(t.notification, Some(NotificationKind::Accepted));
        let t = t.lifecycle.apply(System, &DmsEvent::AssessDuties).unwrap();
        assert_eq!(t.notification, Some(NotificationKind::DutiesAssessed));
        let t = t.lifecycle.apply(Officer, &DmsEvent::Release).unwrap();
        assert_eq!(t.notification, Some(NotificationKind::Released));
        let t = t.lifecycle.apply(Officer, &DmsEvent::Clear).unwrap();
        assert_eq!(t.notification, Some(NotificationKind::Cleared));
    }
}
