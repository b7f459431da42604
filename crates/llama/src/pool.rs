//! Several installed models behind the one inference worker, for routing.
//!
//! A model is loaded the first time a request is routed to it. A second
//! model stays loaded beside the first only when the planner's estimates of
//! both fit the memory budget together ([`routing::keep_both`]); otherwise
//! the loaded one is dropped first — a swap, whose cost (the load time) is
//! recorded and reported.

use crate::{LlamaEngine, LoadOptions};
use pith_core::engine::{Backend, Engine};
use pith_core::flows::rephrase::installed_candidates;
use pith_core::hardware::HardwareProfile;
use pith_core::routing::{self, Candidate};
use pith_core::{Error, Result};
use std::path::PathBuf;
use std::time::Instant;

/// Context the pool's models are planned and loaded with.
const POOL_CONTEXT: u32 = 4096;

#[derive(Debug, Clone)]
pub struct PoolModel {
    pub id: String,
    pub path: PathBuf,
    pub parameters: u64,
    /// The planner's estimate of what the loaded model takes.
    pub bytes: u64,
    pub fits: bool,
}

/// A model unloaded to make room for another.
#[derive(Debug, Clone, PartialEq)]
pub struct Swap {
    pub unloaded: String,
    pub loaded: String,
    pub load_s: f64,
}

pub struct ModelPool {
    models: Vec<PoolModel>,
    loaded: Vec<(String, LlamaEngine)>,
    budget_bytes: u64,
    options: LoadOptions,
    pub swaps: Vec<Swap>,
}

impl ModelPool {
    /// The usable installed models, each with the planner's estimate for
    /// `hw`. `budget_bytes` is the memory the pool may fill.
    pub fn new(
        paths: &[(String, PathBuf)],
        hw: &HardwareProfile,
        budget_bytes: u64,
        options: LoadOptions,
    ) -> Self {
        let models = installed_candidates(paths, hw, budget_bytes, POOL_CONTEXT)
            .into_iter()
            .map(|c| PoolModel {
                id: c.candidate.id,
                path: c.path,
                parameters: c.candidate.parameters,
                bytes: c.bytes,
                fits: c.candidate.fits,
            })
            .collect();
        Self {
            models,
            loaded: Vec::new(),
            budget_bytes,
            options,
            swaps: Vec::new(),
        }
    }

    pub fn models(&self) -> &[PoolModel] {
        &self.models
    }

    pub fn candidates(&self) -> Vec<Candidate> {
        self.models
            .iter()
            .map(|m| Candidate {
                id: m.id.clone(),
                parameters: m.parameters,
                fits: m.fits,
            })
            .collect()
    }

    /// Ids of the models loaded now.
    pub fn loaded(&self) -> Vec<String> {
        self.loaded.iter().map(|(id, _)| id.clone()).collect()
    }
}

impl Backend for ModelPool {
    fn engine(&mut self, id: &str) -> Result<(&mut dyn Engine, Option<String>)> {
        if let Some(i) = self.loaded.iter().position(|(l, _)| l == id) {
            return Ok((&mut self.loaded[i].1, None));
        }
        let model = self
            .models
            .iter()
            .find(|m| m.id == id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("installed model {id:?}")))?;
        let in_use: u64 = self
            .loaded
            .iter()
            .filter_map(|(l, _)| self.models.iter().find(|m| &m.id == l))
            .map(|m| m.bytes)
            .sum();
        let mut note = None;
        if !self.loaded.is_empty() && !routing::keep_both(in_use, model.bytes, self.budget_bytes) {
            let unloaded = self.loaded();
            // Dropping the engines frees their memory before the load.
            self.loaded.clear();
            note = Some(unloaded.join(", "));
        }
        let started = Instant::now();
        let options = LoadOptions {
            context: Some(POOL_CONTEXT),
            ..self.options.clone()
        };
        let engine = LlamaEngine::load(&model.path, &options)?;
        let load_s = started.elapsed().as_secs_f64();
        if let Some(unloaded) = &note {
            self.swaps.push(Swap {
                unloaded: unloaded.clone(),
                loaded: id.to_string(),
                load_s,
            });
        }
        self.loaded.push((id.to_string(), engine));
        let message = note.map(|u| format!("unloaded {u} to load {id} ({load_s:.2} s)"));
        let last = self.loaded.len() - 1;
        Ok((&mut self.loaded[last].1, message))
    }
}
