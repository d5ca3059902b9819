//! Lesson links: a share link with a teacher's instructions, which controls the page hides and
//! which panel it opens on, with a note ("train this, then look at the filters"). The lesson
//! rides after the run in the fragment, `#run=k1....&lesson=l1.<base64url(JSON)>`, with a
//! version of its own: a link without one opens as before, and a Kindling that predates
//! lessons reads the run and ignores the rest (it stops at `&`).

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The version tag of lessons this build writes.
pub const LESSON_VERSION: &str = "l1";
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// Longest lesson part accepted, in characters (a note at its longest, every control hidden).
pub const MAX_LESSON_CHARS: usize = 4_096;
/// The fragment key.
const KEY: &str = "lesson=";

/// A control a lesson can hide.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// The dataset and its settings.
    Dataset,
    /// The model's layers.
    Model,
    /// Training settings (optimizer, learning rate, batch, epochs, seed).
    Training,
    /// The device menu.
    Device,
    /// The Steer box of a paused run.
    Steer,
    /// The live-views switch.
    Views,
    /// The sweeps panel.
    Sweeps,
    /// The runs panel.
    Runs,
}

impl Control {
    /// Every control, in the order the page lists them.
    pub const ALL: [Control; 8] = [
        Control::Dataset,
        Control::Model,
        Control::Training,
        Control::Device,
        Control::Steer,
        Control::Views,
        Control::Sweeps,
        Control::Runs,
    ];

    /// Its id (in the link, and the page's `data-lesson` attribute).
    pub fn id(self) -> &'static str {
        match self {
            Control::Dataset => "dataset",
            Control::Model => "model",
            Control::Training => "training",
            Control::Device => "device",
            Control::Steer => "steer",
            Control::Views => "views",
            Control::Sweeps => "sweeps",
            Control::Runs => "runs",
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            Control::Dataset => "dataset",
            Control::Model => "model",
            Control::Training => "training settings",
            Control::Device => "device menu",
            Control::Steer => "steering",
            Control::Views => "live-views switch",
            Control::Sweeps => "sweeps",
            Control::Runs => "runs table",
        }
    }
}

/// A panel a lesson opens on.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Panel {
    /// The loss and accuracy curves.
    Curves,
    /// The network view.
    Network,
    /// The decision boundary of 2-D data.
    Boundary,
    /// What the first layer's units (or a CNN's filters) look for.
    Filters,
    /// Layer health.
    Health,
    /// The test report: confusion matrix, mistakes.
    Report,
    /// The drawing pad.
    Draw,
    /// The review box.
    Review,
}

impl Panel {
    /// Every panel.
    pub const ALL: [Panel; 8] = [
        Panel::Curves,
        Panel::Network,
        Panel::Boundary,
        Panel::Filters,
        Panel::Health,
        Panel::Report,
        Panel::Draw,
        Panel::Review,
    ];

    /// Its id (in the link, and the page's `data-panel` attribute).
    pub fn id(self) -> &'static str {
        match self {
            Panel::Curves => "curves",
            Panel::Network => "network",
            Panel::Boundary => "boundary",
            Panel::Filters => "filters",
            Panel::Health => "health",
            Panel::Report => "report",
            Panel::Draw => "draw",
            Panel::Review => "review",
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            Panel::Curves => "the curves",
            Panel::Network => "the network view",
            Panel::Boundary => "the decision boundary",
            Panel::Filters => "the filters (what each first-layer unit looks for)",
            Panel::Health => "layer health",
            Panel::Report => "the test report",
            Panel::Draw => "the drawing pad",
            Panel::Review => "the review box",
        }
    }

    /// The panel of an id.
    pub fn parse(id: &str) -> Option<Panel> {
        Panel::ALL.into_iter().find(|p| p.id() == id)
    }
}

/// A teacher's instructions riding with a shared run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Lesson {
    /// Controls the page hides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hide: Vec<Control>,
    /// The panel the page opens on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<Panel>,
    /// What to do, in the teacher's words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Why a link's lesson cannot be read (its run still opens).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LessonError {
    /// Another version than this build reads.
    #[error("its lesson has version '{0}', which this Kindling cannot read (it reads '{LESSON_VERSION}')")]
    UnknownVersion(String),
    /// Longer than [`MAX_LESSON_CHARS`], or a note longer than [`MAX_NOTE_CHARS`].
    #[error("its lesson is too long ({0})")]
    TooLong(String),
    /// Not decodable.
    #[error("its lesson is damaged ({0})")]
    Damaged(String),
}

impl Lesson {
    /// Whether it asks for nothing (then no lesson part is written).
    pub fn is_empty(&self) -> bool {
        self.hide.is_empty() && self.open.is_none() && self.note.trim().is_empty()
    }

    /// Whether it hides `control`.
    pub fn hides(&self, control: Control) -> bool {
        self.hide.contains(&control)
    }

    /// The fragment part (`lesson=l1....`, without `&`).
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("a lesson always serialises");
        format!(
            "{KEY}{LESSON_VERSION}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
        )
    }

    /// `run_link` (a share link) with this lesson; the link itself when the lesson is empty.
    pub fn link(&self, run_link: &str) -> String {
        let run_link = run_link.split("&lesson=").next().unwrap_or(run_link);
        if self.is_empty() {
            run_link.to_string()
        } else {
            format!("{run_link}&{}", self.encode())
        }
    }

    /// The lesson of a link (`None`: it has none). A damaged lesson is an error; the run's
    /// part is read by [`crate::link::decode_link`], which ignores this one.
    pub fn of_link(text: &str) -> Result<Option<Lesson>, LessonError> {
        let Some(at) = text.find(&format!("&{KEY}")) else {
            return Ok(None);
        };
        let code = text[at + 1 + KEY.len()..].split('&').next().unwrap_or("");
        if code.len() > MAX_LESSON_CHARS {
            return Err(LessonError::TooLong(format!("{} characters", code.len())));
        }
        let (version, data) = code
            .split_once('.')
            .ok_or_else(|| LessonError::Damaged("no version tag".into()))?;
        if version != LESSON_VERSION {
            return Err(LessonError::UnknownVersion(
                version.chars().take(12).collect(),
            ));
        }
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(data.trim_end_matches('='))
            .map_err(|e| LessonError::Damaged(format!("not base64url: {e}")))?;
        let mut lesson: Lesson = serde_json::from_slice(&json)
            .map_err(|e| LessonError::Damaged(format!("it does not read: {e}")))?;
        let chars = lesson.note.chars().count();
        if chars > MAX_NOTE_CHARS {
            return Err(LessonError::TooLong(format!(
                "a note of {chars} characters, more than {MAX_NOTE_CHARS}"
            )));
        }
        lesson.hide.dedup();
        Ok(Some(lesson))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{decode_link, encode_link};
    use crate::record::RunRecord;
    use crate::run::RunConfig;

    fn run_link() -> String {
        let record = RunRecord::started(
            1,
            "lesson".into(),
            RunConfig::preset("cnn-seed").unwrap(),
            0.0,
        );
        encode_link("https://example.org/kindling/", &record)
    }

    fn lesson() -> Lesson {
        Lesson {
            hide: vec![Control::Model, Control::Training],
            open: Some(Panel::Filters),
            note: "Train this, then look at the filters: which look like strokes?".into(),
        }
    }

    #[test]
    fn a_lesson_rides_after_the_run_and_reads_back() {
        let link = lesson().link(&run_link());
        assert!(link.starts_with(&run_link()));
        assert!(link.contains("&lesson=l1."));
        assert_eq!(Lesson::of_link(&link), Ok(Some(lesson())));
        // The run reads as from the link without the lesson.
        assert_eq!(decode_link(&link), decode_link(&run_link()));
        // A second lesson replaces the first; an empty one leaves the run link alone.
        let other = Lesson {
            note: "Only a note".into(),
            ..Lesson::default()
        };
        assert_eq!(Lesson::of_link(&other.link(&link)), Ok(Some(other)));
        assert_eq!(Lesson::default().link(&link), run_link());
    }

    #[test]
    fn old_links_have_no_lesson_and_bad_lessons_say_why() {
        assert_eq!(Lesson::of_link(&run_link()), Ok(None));
        let link = lesson().link(&run_link());
        let future = link.replace("&lesson=l1.", "&lesson=l9.");
        assert!(matches!(
            Lesson::of_link(&future),
            Err(LessonError::UnknownVersion(v)) if v == "l9"
        ));
        let cut = &link[..link.len() - 5];
        assert!(matches!(Lesson::of_link(cut), Err(LessonError::Damaged(_))));
        let long = Lesson {
            note: "x".repeat(MAX_NOTE_CHARS + 1),
            ..Lesson::default()
        };
        assert!(matches!(
            Lesson::of_link(&long.link(&run_link())),
            Err(LessonError::TooLong(_))
        ));
        let unknown = format!(
            "{}&lesson=l1.{}",
            run_link(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"hide":["everything"]}"#)
        );
        assert!(matches!(
            Lesson::of_link(&unknown),
            Err(LessonError::Damaged(_))
        ));
    }

    #[test]
    fn ids_name_every_control_and_panel_once() {
        let mut ids: Vec<&str> = Control::ALL.iter().map(|c| c.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Control::ALL.len());
        for p in Panel::ALL {
            assert_eq!(Panel::parse(p.id()), Some(p));
        }
    }
}
