// Raw llama.cpp throughput, llama-bench's method, linked against the same
// static libraries Pith's build produced (same source, same CPU flags):
// prompt = one batch of 512 tokens; generation = 128 single-token decodes.
// Prints one JSON object. Used by scripts/bench-raw-llama.sh.
#include "llama.h"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char ** argv) {
    if (argc < 3) { fprintf(stderr, "usage: raw_bench MODEL THREADS\n"); return 2; }
    const int threads = atoi(argv[2]);
    const int n_prompt = 512, n_gen = 128, reps = 3;
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_backend_init();
    auto mp = llama_model_default_params();
    mp.load_mode = LLAMA_LOAD_MODE_NONE;  // read into memory, as Pith does
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    auto cp = llama_context_default_params();
    cp.n_ctx = 4096; cp.n_batch = 512; cp.n_ubatch = 512;
    cp.n_threads = threads; cp.n_threads_batch = threads;
    llama_context * ctx = llama_init_from_model(model, cp);
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    std::vector<llama_token> toks(n_prompt);
    for (int i = 0; i < n_prompt; i++) toks[i] = (llama_token) ((i * 7919L + 13) % (n_vocab - 1) + 1);
    auto mem = llama_get_memory(ctx);

    auto prompt = [&]() { llama_memory_clear(mem, true); llama_decode(ctx, llama_batch_get_one(toks.data(), n_prompt)); };
    auto gen = [&]() {
        llama_memory_clear(mem, true);
        for (int i = 0; i < n_gen; i++) { llama_token t = toks[i]; llama_decode(ctx, llama_batch_get_one(&t, 1)); }
    };
    prompt();  // warm-up
    double t = now();
    for (int r = 0; r < reps; r++) prompt();
    const double pp = n_prompt * reps / (now() - t);
    gen();  // warm-up
    t = now();
    for (int r = 0; r < reps; r++) gen();
    const double tg = n_gen * reps / (now() - t);
    printf("{\"prompt_tps\": %.1f, \"gen_tps\": %.1f, \"threads\": %d}\n", pp, tg, threads);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
