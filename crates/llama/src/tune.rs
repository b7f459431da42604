//! Training on the CPU with llama.cpp's own optimizer (`llama_opt_*`).
//!
//! llama.cpp trains a model's own F32 tensors, never a loaded adapter's, and
//! cannot train quantized weights in place. So Pith trains an F32 copy of
//! the model in which only the chosen projections (`attn_q`, `attn_v`, …)
//! are trainable, reads back how far each moved from the base weights, and
//! `pith_core::tune` folds those differences into a low-rank adapter.
//!
//! Everything here is the raw C API: `llama-cpp-2` does not wrap training.
#![allow(unsafe_code)]

use std::ffi::{c_void, CStr, CString};
use std::path::Path;
use std::time::Instant;

use llama_cpp_sys_2 as sys;
use pith_core::tune::{Control, Example, TrainSettings, TrainedTensor, TrainingStep, Window};
use pith_core::{Error, Result};

/// Writes an all-F32 copy of `src` (any quantization) to `dst`.
pub fn f32_copy(src: &Path, dst: &Path, threads: usize) -> Result<()> {
    crate::engine::backend()?;
    let src_c = c_path(src)?;
    let dst_c = c_path(dst)?;
    // SAFETY: the params struct comes from llama.cpp's own defaults; both
    // paths are NUL-terminated and outlive the call.
    let rc = unsafe {
        let mut params = sys::llama_model_quantize_default_params();
        params.nthread = i32::try_from(threads).unwrap_or(1);
        params.ftype = sys::LLAMA_FTYPE_ALL_F32;
        params.allow_requantize = true;
        sys::llama_model_quantize(src_c.as_ptr(), dst_c.as_ptr(), &params)
    };
    if rc != 0 || !dst.exists() {
        return Err(Error::Inference(format!(
            "llama.cpp could not write an F32 copy of {} (code {rc})",
            src.display()
        )));
    }
    Ok(())
}

fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.to_string_lossy().as_bytes())
        .map_err(|_| Error::Inference(format!("{} has a NUL byte", path.display())))
}

/// What the parameter filter collects while llama.cpp marks tensors.
struct Targets {
    suffixes: Vec<String>,
    found: Vec<Target>,
}

struct Target {
    name: String,
    tensor: *mut sys::ggml_tensor,
    rows: usize,
    cols: usize,
    base: Vec<f32>,
}

unsafe extern "C" fn filter(tensor: *const sys::ggml_tensor, userdata: *mut c_void) -> bool {
    // SAFETY: userdata is the `Targets` passed to llama_opt_init, alive for
    // the call; tensor is a live model tensor whose name is NUL-terminated.
    let targets = unsafe { &mut *userdata.cast::<Targets>() };
    let name = unsafe { CStr::from_ptr(sys::ggml_get_name(tensor)) }
        .to_string_lossy()
        .into_owned();
    if !targets.suffixes.iter().any(|s| name.ends_with(s.as_str())) {
        return false;
    }
    let t = unsafe { &*tensor };
    let cols = usize::try_from(t.ne[0]).unwrap_or(0);
    let rows = usize::try_from(t.ne[1] * t.ne[2] * t.ne[3]).unwrap_or(0);
    let mut base = vec![0f32; rows * cols];
    // SAFETY: an F32 tensor of rows × cols elements (llama.cpp only offers
    // F32 tensors to the filter); `base` holds exactly that many bytes.
    unsafe {
        sys::ggml_backend_tensor_get(
            tensor,
            base.as_mut_ptr().cast(),
            0,
            base.len() * std::mem::size_of::<f32>(),
        );
    }
    targets.found.push(Target {
        name,
        tensor: tensor.cast_mut(),
        rows,
        cols,
        base,
    });
    true
}

unsafe extern "C" fn optimizer(userdata: *mut c_void) -> sys::ggml_opt_optimizer_params {
    // SAFETY: userdata is the learning rate (an f32) passed to
    // llama_opt_init, alive as long as the context.
    let lr = unsafe { *userdata.cast::<f32>() };
    let mut params = unsafe { sys::ggml_opt_get_default_optimizer_params(std::ptr::null_mut()) };
    params.adamw.alpha = lr;
    params.adamw.wd = 0.0;
    params.sgd.alpha = lr;
    params
}

/// Gives the window's untaught positions (prompt tokens) the model's own
/// greedy prediction as their label, from one forward pass.
fn self_label(
    model: *mut sys::llama_model,
    ctx: *mut sys::llama_context,
    window: &mut Window,
) -> Result<()> {
    if window.taught.iter().all(|t| *t) {
        return Ok(());
    }
    let n = window.tokens.len();
    // SAFETY: a batch of n tokens, filled within its n entries, decoded on
    // the session's live context and freed here; logits are read for
    // positions that asked for them, n_vocab floats each.
    unsafe {
        let vocab = sys::llama_model_get_vocab(model);
        let n_vocab = usize::try_from(sys::llama_vocab_n_tokens(vocab)).unwrap_or(0);
        let mut batch = sys::llama_batch_init(i32::try_from(n).unwrap_or(i32::MAX), 0, 1);
        batch.n_tokens = i32::try_from(n).unwrap_or(i32::MAX);
        for i in 0..n {
            *batch.token.add(i) = window.tokens[i];
            *batch.pos.add(i) = i32::try_from(i).unwrap_or(i32::MAX);
            *batch.n_seq_id.add(i) = 1;
            *(*batch.seq_id.add(i)) = 0;
            *batch.logits.add(i) = i8::from(!window.taught[i]);
        }
        sys::llama_memory_clear(sys::llama_get_memory(ctx), true);
        let rc = sys::llama_decode(ctx, batch);
        if rc != 0 {
            sys::llama_batch_free(batch);
            return Err(Error::Inference(format!(
                "llama.cpp could not read a training window (code {rc})"
            )));
        }
        for i in (0..n).filter(|&i| !window.taught[i]) {
            let logits = sys::llama_get_logits_ith(ctx, i32::try_from(i).unwrap_or(0));
            if logits.is_null() {
                continue;
            }
            let row = std::slice::from_raw_parts(logits, n_vocab);
            let best = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(t, _)| t);
            window.labels[i] = i32::try_from(best).unwrap_or(0);
        }
        sys::llama_batch_free(batch);
        sys::llama_memory_clear(sys::llama_get_memory(ctx), true);
    }
    Ok(())
}

/// A loaded F32 model and a training context over it; freed on drop.
struct Session {
    model: *mut sys::llama_model,
    ctx: *mut sys::llama_context,
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: both were created by llama.cpp in `train` and are freed
        // once, context first.
        unsafe {
            if !self.ctx.is_null() {
                sys::llama_free(self.ctx);
            }
            if !self.model.is_null() {
                sys::llama_model_free(self.model);
            }
        }
    }
}

/// Trains the tensors whose names end with `settings.targets` on
/// `examples`, packed into windows of `settings.n_ctx` tokens; only the
/// answers are taught (`pith_core::tune::pack`).
/// `on_step` hears of every optimizer step and may stop the run
/// ([`Control::Stop`]); the tensors are returned as far as they got.
/// `start` (from an earlier run's result) resumes: those weights are set
/// before the first step and `settings.skip_steps` windows are passed over.
pub fn train(
    f32_model: &Path,
    examples: &[Example],
    settings: &TrainSettings,
    start: &[TrainedTensor],
    on_step: &mut dyn FnMut(&TrainingStep) -> Control,
) -> Result<Vec<TrainedTensor>> {
    crate::engine::backend()?;
    // llama.cpp pads a context to a multiple of 256 tokens, and a training
    // window must fill the context exactly.
    let settings = &TrainSettings {
        n_ctx: settings.n_ctx.max(1).div_ceil(256) * 256,
        ..settings.clone()
    };
    let mut windows = pith_core::tune::pack(examples, settings.n_ctx as usize);
    if windows.is_empty() {
        return Err(Error::InvalidInput(
            "the training examples do not fill one window".into(),
        ));
    }
    let path = c_path(f32_model)?;
    let threads = i32::try_from(settings.threads.max(1)).unwrap_or(1);
    let mut session = Session {
        model: std::ptr::null_mut(),
        ctx: std::ptr::null_mut(),
    };
    // SAFETY: plain llama.cpp calls on a NUL-terminated path; the model and
    // context are owned by `session` and freed on every way out.
    unsafe {
        let mut mparams = sys::llama_model_default_params();
        mparams.load_mode = sys::LLAMA_LOAD_MODE_NONE;
        mparams.n_gpu_layers = 0;
        session.model = sys::llama_model_load_from_file(path.as_ptr(), mparams);
        if session.model.is_null() {
            return Err(Error::Inference(format!(
                "llama.cpp could not load {}",
                f32_model.display()
            )));
        }
        let mut cparams = sys::llama_context_default_params();
        cparams.n_ctx = settings.n_ctx;
        cparams.n_batch = settings.n_ctx;
        cparams.n_ubatch = settings.n_ctx;
        cparams.n_threads = threads;
        cparams.n_threads_batch = threads;
        cparams.type_k = sys::GGML_TYPE_F32;
        cparams.type_v = sys::GGML_TYPE_F32;
        cparams.flash_attn_type = sys::LLAMA_FLASH_ATTN_TYPE_DISABLED;
        // Positions that are not taught learn what the base model predicts
        // there already (for a proofread input's mistake, mostly the
        // correction), read in a context of its own before training.
        if windows.iter().any(|w| w.taught.contains(&false)) {
            let labeller = Session {
                model: std::ptr::null_mut(),
                ctx: sys::llama_init_from_model(session.model, cparams),
            };
            if labeller.ctx.is_null() {
                return Err(Error::Inference(
                    "llama.cpp could not make a context to read the examples".into(),
                ));
            }
            for window in &mut windows {
                self_label(session.model, labeller.ctx, window)?;
            }
        }
        session.ctx = sys::llama_init_from_model(session.model, cparams);
        if session.ctx.is_null() {
            return Err(Error::Inference(
                "llama.cpp could not make a training context".into(),
            ));
        }
    }

    let mut targets = Targets {
        suffixes: settings.targets.clone(),
        found: Vec::new(),
    };
    let mut lr = settings.learning_rate;
    // SAFETY: `targets` and `lr` outlive the context (dropped after it at
    // the end of this function); the callbacks read them as their types.
    unsafe {
        let oparams = sys::llama_opt_params {
            n_ctx_train: 0,
            param_filter: Some(filter),
            param_filter_ud: (&raw mut targets).cast(),
            get_opt_pars: Some(optimizer),
            get_opt_pars_ud: (&raw mut lr).cast(),
            optimizer_type: sys::GGML_OPT_OPTIMIZER_TYPE_ADAMW,
        };
        sys::llama_opt_init(session.ctx, session.model, oparams);
    }
    if targets.found.is_empty() {
        return Err(Error::Inference(format!(
            "the model has no tensor named *{}",
            settings.targets.join(" or *")
        )));
    }
    for given in start {
        let Some(target) = targets.found.iter().find(|t| t.name == given.name) else {
            continue;
        };
        if given.delta.len() != target.base.len() {
            return Err(Error::Inference(format!(
                "the run to resume has another shape for {}",
                given.name
            )));
        }
        let weights: Vec<f32> = target
            .base
            .iter()
            .zip(&given.delta)
            .map(|(b, d)| b + d)
            .collect();
        // SAFETY: same tensor and size as read in `filter`.
        unsafe {
            sys::ggml_backend_tensor_set(
                target.tensor,
                weights.as_ptr().cast(),
                0,
                weights.len() * std::mem::size_of::<f32>(),
            );
        }
    }

    let n_ctx = settings.n_ctx as usize;
    let steps = windows.len() * settings.epochs.max(1) as usize;
    let started = Instant::now();
    let mut step = 0usize;
    'epochs: for _ in 0..settings.epochs.max(1) {
        for Window {
            tokens: data,
            labels,
            ..
        } in &windows
        {
            step += 1;
            if step <= settings.skip_steps {
                continue;
            }
            // SAFETY: a one-window dataset of I32 tokens, filled within its
            // n_ctx elements, trained on and freed in this block.
            let loss = unsafe {
                let ds = sys::ggml_opt_dataset_init(
                    sys::GGML_TYPE_I32,
                    sys::GGML_TYPE_I32,
                    n_ctx as i64,
                    n_ctx as i64,
                    1,
                    1,
                );
                let d = (*sys::ggml_opt_dataset_data(ds)).data.cast::<i32>();
                let l = (*sys::ggml_opt_dataset_labels(ds)).data.cast::<i32>();
                std::ptr::copy_nonoverlapping(data.as_ptr(), d, n_ctx);
                std::ptr::copy_nonoverlapping(labels.as_ptr(), l, n_ctx);
                let result = sys::ggml_opt_result_init();
                sys::llama_opt_epoch(session.ctx, ds, result, std::ptr::null_mut(), 1, None, None);
                let mut loss = 0f64;
                let mut unc = 0f64;
                sys::ggml_opt_result_loss(result, &mut loss, &mut unc);
                sys::ggml_opt_result_free(result);
                sys::ggml_opt_dataset_free(ds);
                loss
            };
            let elapsed = started.elapsed().as_secs_f64();
            let done = step - settings.skip_steps;
            let report = TrainingStep {
                step,
                steps,
                loss,
                tokens_per_s: (done * n_ctx) as f64 / elapsed.max(1e-9),
            };
            if on_step(&report) == Control::Stop {
                break 'epochs;
            }
        }
    }

    let mut out = Vec::with_capacity(targets.found.len());
    for target in &targets.found {
        let mut now = vec![0f32; target.base.len()];
        // SAFETY: same tensor and size as read in `filter`.
        unsafe {
            sys::ggml_backend_tensor_get(
                target.tensor,
                now.as_mut_ptr().cast(),
                0,
                now.len() * std::mem::size_of::<f32>(),
            );
        }
        let delta = now.iter().zip(&target.base).map(|(n, b)| n - b).collect();
        out.push(TrainedTensor {
            name: target.name.clone(),
            rows: target.rows,
            cols: target.cols,
            delta,
        });
    }
    drop(session);
    Ok(out)
}

/// [`pith_core::flows::tune::Tuner`] on llama.cpp: the F32 copy, the
/// training, and the model loaded again with a candidate adapter or a
/// teacher model (with the options the tuned engine was loaded with).
pub struct LlamaTuner {
    pub model: std::path::PathBuf,
    pub options: crate::LoadOptions,
}

impl pith_core::flows::tune::Tuner for LlamaTuner {
    fn f32_copy(&mut self, model: &Path, dst: &Path) -> Result<()> {
        let threads = self
            .options
            .threads
            .unwrap_or_else(pith_core::hardware::physical_cores);
        f32_copy(model, dst, threads)
    }

    fn train(
        &mut self,
        f32_model: &Path,
        examples: &[Example],
        settings: &TrainSettings,
        start: &[TrainedTensor],
        on_step: &mut dyn FnMut(&TrainingStep) -> Control,
    ) -> Result<Vec<TrainedTensor>> {
        train(f32_model, examples, settings, start, on_step)
    }

    fn with_adapter(
        &mut self,
        name: &str,
        adapter: &Path,
    ) -> Result<Box<dyn pith_core::engine::Engine>> {
        let options = crate::LoadOptions {
            adapters: vec![(name.to_string(), adapter.to_path_buf())],
            states: None,
            ..self.options.clone()
        };
        Ok(Box::new(crate::LlamaEngine::load(&self.model, &options)?))
    }

    fn teacher(
        &mut self,
        teacher: &pith_core::flows::tune::TeacherModel,
    ) -> Result<Box<dyn pith_core::engine::Engine>> {
        if !teacher.path.is_file() {
            return Err(Error::NotFound(format!(
                "the teacher model {} ({}); install a larger model first (pith models download ID)",
                teacher.id,
                teacher.path.display()
            )));
        }
        let options = crate::LoadOptions {
            states: None,
            ..self.options.clone()
        };
        Ok(Box::new(crate::LlamaEngine::load(&teacher.path, &options)?))
    }
}
