"""What the static scan looks for: module, call, host, path and benchmark tables, and checks on string values.

Tables are data so a reviewer can read the whole policy here; the AST walk (mac.audit.pyscan) only applies them.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# -- modules ----------------------------------------------------------------------------------------------
NETWORK_MODULES = {
    "socket", "ssl", "urllib", "urllib.request", "urllib3", "requests", "httpx", "aiohttp", "http.client",
    "http", "websocket", "websockets", "ftplib", "smtplib", "telnetlib", "paramiko", "pycurl", "grpc", "zmq",
    "asyncssh", "xmlrpc.client", "tornado", "twisted",
}
"""Importing these is common and harmless on its own (low); calls with hard-coded external URLs are not."""

PROVIDER_MODULES = {
    "anthropic": "high", "google.generativeai": "high", "google.genai": "high", "vertexai": "high",
    "cohere": "high", "mistralai": "high", "groq": "high", "together": "high", "replicate": "high",
    "fireworks": "high", "ollama": "high", "llama_cpp": "high", "vllm": "high", "transformers": "high",
    "sentence_transformers": "medium", "langchain_anthropic": "high", "langchain_google_genai": "high",
    "langchain_community": "medium", "huggingface_hub": "medium", "litellm": "medium", "boto3": "medium",
    "openrouter": "high", "dashscope": "high", "zhipuai": "high", "deepseek": "high", "xai_sdk": "high",
    "torch": "low", "onnxruntime": "low",
}
"""Other model providers or local model runtimes (unauthorized_model); openai itself is how the gateway is used."""

DATASET_MODULES = {"datasets": "medium", "kagglehub": "high", "kaggle": "high"}
"""Dataset loaders (external_benchmark_fetch)."""

PROCESS_MODULES = {"ctypes": "medium", "cffi": "medium", "prctl": "high", "pyroute2": "high", "ptrace": "critical",
                   "python_ptrace": "critical"}

DANGEROUS_NATIVE_CALLS = {
    "ptrace", "setns", "unshare", "mount", "umount", "umount2", "pivot_root", "chroot", "prctl",
    "process_vm_readv", "process_vm_writev", "bpf", "init_module", "keyctl", "add_key", "perf_event_open",
    "setuid", "setgid", "setresuid", "setresgid", "seteuid", "setegid", "capset", "kexec_load",
}
"""Attribute names that, called on anything (libc via ctypes, os), are namespace or privilege tricks."""

OS_PRIVILEGE_CALLS = {f"os.{n}" for n in ("setns", "unshare", "chroot", "setuid", "setgid", "setresuid", "setresgid",
                                           "seteuid", "setegid", "setgroups", "mount")}

SHELL_CALLS = {"os.system", "os.popen", "pty.spawn", "commands.getoutput", "subprocess.getoutput",
               "subprocess.getstatusoutput"}
SUBPROCESS_CALLS = {"subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call",
                    "subprocess.check_output", "asyncio.create_subprocess_shell"}
EXEC_CALLS = {"exec", "eval", "compile", "builtins.exec", "builtins.eval", "builtins.compile"}
IMPORT_CALLS = {"__import__", "builtins.__import__", "importlib.import_module", "importlib.__import__"}
DECODER_CALLS = {
    "base64.b64decode", "base64.b32decode", "base64.b16decode", "base64.b85decode", "base64.a85decode",
    "base64.urlsafe_b64decode", "base64.decodebytes", "binascii.unhexlify", "binascii.a2b_base64",
    "binascii.a2b_hex", "zlib.decompress", "bz2.decompress", "lzma.decompress", "gzip.decompress",
    "codecs.decode", "bytes.fromhex", "marshal.loads", "pickle.loads", "bytearray.fromhex",
}
"""Calls whose output, fed to exec/eval, hides what runs (obfuscated_code)."""

NET_CALL_PREFIXES = ("requests.", "httpx.", "aiohttp.", "urllib.request.", "urllib3.", "http.client.",
                     "socket.create_connection", "websocket.", "websockets.")
OPENAI_CLIENTS = {"OpenAI", "AsyncOpenAI", "AzureOpenAI", "AsyncAzureOpenAI", "ModelClient", "OpenAIHelper",
                  "ChatOpenAI"}
BASE_URL_KEYWORDS = {"base_url", "api_base", "openai_api_base", "azure_endpoint", "endpoint", "host"}
LITELLM_CALLS = {"litellm.completion", "litellm.acompletion", "litellm.text_completion", "litellm.batch_completion"}
DATASET_CALLS = {"datasets.load_dataset", "huggingface_hub.hf_hub_download", "huggingface_hub.snapshot_download",
                 "huggingface_hub.HfApi", "kagglehub.dataset_download", "huggingface_hub.list_repo_files"}

# -- environment --------------------------------------------------------------------------------------------
ALLOWED_ENV = {"TASK_MODEL_API_BASE", "TASK_MODEL_API_KEY", "TASK_MODEL_NAME", "EVALUATION_API_URL",
               "MAC_DEADLINE", "MAC_SEED", "MAC_DOMAIN"}
HARMLESS_ENV = {"PATH", "HOME", "TMPDIR", "TMP", "TEMP", "PYTHONPATH", "PYTHONHASHSEED", "PYTHONUNBUFFERED", "LANG",
                "LC_ALL", "USER", "PWD", "SHELL", "TERM", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TZ", "DEBUG",
                "VERBOSE", "LOG_LEVEL", "NUM_WORKERS", "MAX_WORKERS", "WORKERS", "SEED", "TIMEOUT"}
_SECRET_ENV = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH", re.IGNORECASE)


def classify_env(name: str) -> tuple[str, str, str] | None:
    """(severity, type, why) for reading environment variable `name`, or None when it is expected."""
    if name in ALLOWED_ENV or name in HARMLESS_ENV:
        return None
    if _SECRET_ENV.search(name):
        kind = "external_benchmark_fetch" if name.upper().startswith(("HF_", "HUGGING", "KAGGLE")) else "api_proxy_bypass"
        return "high", kind, f"reads the secret-looking environment variable {name} (only TASK_MODEL_* are granted)"
    return "low", "other", f"reads the environment variable {name}"


# -- hosts and URLs -----------------------------------------------------------------------------------------
MODEL_API_HOSTS = (
    "api.openai.com", "api.anthropic.com", "generativelanguage.googleapis.com", "aiplatform.googleapis.com",
    "openrouter.ai", "api.together.xyz", "api.together.ai", "api.groq.com", "api.mistral.ai", "api.deepseek.com",
    "api.cohere.ai", "api.cohere.com", "api.fireworks.ai", "api.x.ai", "api.perplexity.ai", "openai.azure.com",
    "api-inference.huggingface.co", "router.huggingface.co", "api.replicate.com", "dashscope.aliyuncs.com",
    "api.moonshot.cn", "bedrock-runtime", "api.endpoints.anyscale.com", "inference.ai.azure.com",
)
DATASET_HOSTS = ("huggingface.co", "hf.co", "raw.githubusercontent.com", "gist.githubusercontent.com",
                 "artofproblemsolving.com", "kaggle.com", "storage.googleapis.com/kaggle", "datasets-server.huggingface.co",
                 "paperswithcode.com", "livecodebench.github.io", "swebench.com")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "[::1]", ""}

_URL = re.compile(r"(?:https?|wss?|ftp)://[^\s'\"<>`]+", re.IGNORECASE)


def urls_in(text: str) -> list[str]:
    return _URL.findall(text[:20_000])


def url_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def is_local_url(url: str) -> bool:
    host = url_host(url)
    return host in LOCAL_HOSTS or host.startswith("127.")


def model_host_in(text: str) -> str | None:
    low = text.lower()
    return next((h for h in MODEL_API_HOSTS if h in low), None)


# -- benchmarks ---------------------------------------------------------------------------------------------
BENCHMARK_FETCH = re.compile(
    r"cais/hle|idavidrein/gpqa|gpqa[_-]?diamond|huggingface\.co/datasets|hf\.co/datasets|datasets-server\.huggingface"
    r"|raw\.githubusercontent\.com|gist\.githubusercontent\.com|artofproblemsolving\.com|aops\.com"
    r"|livecodebench/|princeton-nlp/swe-bench|swe-bench/swe-bench|ai-mo/aimo|huggingfaceh4/aime|maxwell-jia/aime"
    r"|opencompass/aime|di-zhang-fdu/aime|qq8933/aime|math-ai/aime|terminal-bench|kaggle\.com/datasets",
    re.IGNORECASE)
"""Dataset ids and URLs where benchmark questions and answers live (external_benchmark_fetch)."""

BENCHMARK_NAME = re.compile(
    r"\bAIME[ _-]?20\d\d\b|\bGPQA\b|\bHLE\b|humanity'?s last exam|\bLiveCodeBench\b|\bSWE-?bench\b", re.IGNORECASE)
"""Benchmark names: worth a note (info), not an accusation; prompts mention them innocently."""

# -- paths --------------------------------------------------------------------------------------------------
_SECRET_PATH = re.compile(
    r"^/proc/(?:\d+|self|\*|[^/]*\{)[^/]*/(?:environ|mem|maps|cmdline|root|cwd|fd)\b|^/proc/\d+|^/etc/shadow|"
    r"(?:^|/)\.ssh(?:/|$)|(?:^|/)\.aws(?:/|$)|(?:^|/)\.netrc$|(?:^|/)\.config/gcloud|(?:^|/)\.docker/config|"
    r"(?:^|/)\.git-credentials$|(?:^|/)\.cache/huggingface/token|^/run/secrets|^/var/run/secrets")
_HARMLESS_PROC = re.compile(r"^/proc/(?:cpuinfo|meminfo|loadavg|uptime|stat|version|self/(?:status|statm|stat|limits))$")
_OUTSIDE_PATH = re.compile(
    r"^/(?:etc|proc|root|home|var|sys|run|mnt|srv|opt|data|jobs|work|boot|media|scratch|nfs|shared|"
    r"dev/(?!null\b|zero\b|u?random\b|stdout\b|stderr\b|stdin\b|shm\b))(?:/|$)")
_PARENT_HOPS = re.compile(r"(?:^|/)\.\.(?=/|$)")
_SPLIT_FILES = re.compile(r"(?:^|/)(?:test|dev|eval)[_-]?(?:split|set)?\.jsonl$|(?:^|/)(?:answers?|ground_truth|"
                          r"solutions?|labels?)[_-]?\w*\.(?:json|jsonl|csv|txt)$", re.IGNORECASE)


def classify_path(text: str) -> tuple[str, str, str] | None:
    """(severity, type, why) for a string that names a path outside the workspace, or None."""
    s = text.strip()
    if len(s) > 400 or "\n" in s:
        return None
    if _SECRET_PATH.search(s):
        return "high", "sandbox_escape", f"names a secret-bearing path {s[:80]!r} (other processes, keys, credentials)"
    if s.startswith(("~/.", "~root")) and _SECRET_PATH.search(s[1:]):
        return "high", "sandbox_escape", f"names a credential path {s[:80]!r}"
    if _HARMLESS_PROC.match(s):
        return None
    if _OUTSIDE_PATH.match(s):
        return "medium", "ground_truth_access", f"names the path {s[:80]!r} outside the workspace"
    hops = len(_PARENT_HOPS.findall(s))
    if hops >= 2 and not s.startswith(("http", ".\\")):
        return "medium", "ground_truth_access", f"climbs {hops} folders up ({s[:80]!r}), out of the workspace"
    if _SPLIT_FILES.search(s) and ("/" in s or s.lower().startswith(("test", "answer", "ground", "solution"))):
        return "low", "ground_truth_access", f"names a split or answer file {s[:80]!r}"
    return None
