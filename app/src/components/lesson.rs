//! Lessons (#17): a teacher turns a share link into a lesson that hides chosen controls and
//! opens on a chosen panel, with a note; a learner who opens it sees the note, trains the run
//! with one button, and finds the panel outlined. Hidden controls are hidden by classes on
//! `<body>` (`lesson-hide-<control>`, matched by each control's `data-lesson`), the panel
//! outlined by `lesson-open-<panel>` (matched by `data-panel`).

use kindling_core::lesson::{Control, Lesson, Panel, MAX_NOTE_CHARS};
use leptos::prelude::*;

use crate::session::use_session;

/// Scrolls the first element of `panel` into view, if the page shows one now.
fn go_to(panel: Panel) -> bool {
    let found = document()
        .query_selector(&format!("[data-panel=\"{}\"]", panel.id()))
        .ok()
        .flatten();
    if let Some(element) = &found {
        element.scroll_into_view();
    }
    found.is_some()
}

/// Puts the lesson's classes on `<body>` (none without a lesson).
fn mark_body(lesson: Option<&Lesson>) {
    let Some(body) = document().body() else {
        return;
    };
    let classes = body.class_list();
    for control in Control::ALL {
        let on = lesson.is_some_and(|l| l.hides(control));
        let _ = classes.toggle_with_force(&format!("lesson-hide-{}", control.id()), on);
    }
    for panel in Panel::ALL {
        let on = lesson.is_some_and(|l| l.open == Some(panel));
        let _ = classes.toggle_with_force(&format!("lesson-open-{}", panel.id()), on);
    }
}

/// The lesson of the link opened: its note and what to do.
#[component]
pub fn LessonBanner() -> impl IntoView {
    let s = use_session();
    Effect::new(move |_| {
        s.kept
            .lesson
            .with(|l| mark_body(l.as_ref().map(|(l, _)| l)));
    });
    // Opens on its panel, once the page has drawn it.
    Effect::new(move |_| {
        if let Some(panel) = s.kept.lesson.with(|l| l.as_ref().and_then(|(l, _)| l.open)) {
            crate::tasks::in_own_task("lesson panel", move || {
                go_to(panel);
            });
        }
    });
    view! {
        {move || s.kept.lesson.get().map(|(lesson, id)| {
            let open = lesson.open;
            let hidden: Vec<&str> = lesson.hide.iter().map(|c| c.label()).collect();
            view! {
                <section class="lesson" data-testid="lesson" aria-label="Lesson">
                    <div class="lesson-text">
                        <strong>"Lesson"</strong>
                        {(!lesson.note.is_empty()).then(|| view! { <p class="lesson-note" data-testid="lesson-note">{lesson.note.clone()}</p> })}
                        {(!hidden.is_empty()).then(|| view! {
                            <p class="hint">{format!("Hidden for this lesson: {}.", hidden.join(", "))}</p>
                        })}
                    </div>
                    <div class="lesson-actions">
                        <button data-testid="lesson-train" disabled=move || s.run.busy() on:click=move |_| s.reproduce(id)>
                            "Train it"
                        </button>
                        {open.map(|panel| view! {
                            <button class="secondary" data-testid="lesson-go" on:click=move |_| {
                                if !go_to(panel) {
                                    s.messages.tell(format!("{} shows once the run has trained: press Train it first.", panel.label()));
                                }
                            }>{format!("Go to {}", panel.label())}</button>
                        })}
                        <button class="secondary" data-testid="lesson-show-all" on:click=move |_| {
                            s.kept.lesson.update(|l| if let Some((l, _)) = l { l.hide.clear() });
                        }>"Show every control"</button>
                        <button class="secondary" aria-label="Close the lesson" on:click=move |_| s.kept.lesson.set(None)>"×"</button>
                    </div>
                </section>
            }
        })}
    }
}

/// Makes a lesson of the share link shown: what to hide, where to open, a note.
#[component]
pub fn LessonMaker(link: Signal<Option<String>>) -> impl IntoView {
    let draft = RwSignal::new(Lesson::default());
    let lesson_link = move || {
        link.get()
            .map(|l| draft.with(|d| d.link(&l)))
            .unwrap_or_default()
    };
    view! {
        <details class="lesson-maker">
            <summary data-testid="lesson-maker">"Make it a lesson: hide controls, open on a panel, add a note"</summary>
            <fieldset class="lesson-hide">
                <legend>"Hide"</legend>
                {Control::ALL.into_iter().map(|control| view! {
                    <label class="check">
                        <input type="checkbox" data-testid=format!("lesson-hide-{}", control.id())
                            prop:checked=move || draft.with(|d| d.hides(control))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                draft.update(|d| {
                                    d.hide.retain(|c| *c != control);
                                    if on { d.hide.push(control) }
                                });
                            } />
                        {control.label()}
                    </label>
                }).collect_view()}
            </fieldset>
            <label class="field">
                <span>"Open on"</span>
                <select data-testid="lesson-open" on:change=move |ev| {
                    let panel = Panel::parse(&event_target_value(&ev));
                    draft.update(|d| d.open = panel);
                }>
                    <option value="">"the top of the page"</option>
                    {Panel::ALL.into_iter().map(|p| view! { <option value=p.id()>{p.label()}</option> }).collect_view()}
                </select>
            </label>
            <label class="field wide">
                <span>{format!("Note (what to do, at most {MAX_NOTE_CHARS} characters)")}</span>
                <textarea data-testid="lesson-note-input" rows="2" maxlength=MAX_NOTE_CHARS.to_string()
                    placeholder="Train this, then look at the filters: which ones look like pen strokes?"
                    on:input=move |ev| {
                        let note: String = event_target_value(&ev).chars().take(MAX_NOTE_CHARS).collect();
                        draft.update(|d| d.note = note);
                    }></textarea>
            </label>
            <div class="share">
                <label class="field wide">
                    <span>{move || format!("Lesson link ({} characters)", lesson_link().len())}</span>
                    <input type="text" readonly data-testid="lesson-link" prop:value=lesson_link />
                </label>
                <button on:click=move |_| super::runs::copy_text(&lesson_link())>"Copy"</button>
            </div>
        </details>
    }
}
