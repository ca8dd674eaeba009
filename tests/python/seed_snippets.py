"""Every code block of the seed document (shared/seed/task-execution-framework.txt), copied
line for line, in document order. test_seed_document.py checks that each copy still occurs
in the seed file (trailing whitespace aside) and runs each one against a real cluster.

kind: "python" blocks run as written; "integration" blocks need retire_cluster.tasks.
integrations, which is not built yet; "shell" is the command-line block.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    name: str
    above: str  #: the seed's line of prose just above the block
    kind: str  #: "python", "integration" or "shell"
    code: str


def _block(text: str) -> str:
    return text.strip("\n") + "\n"


SNIPPETS: tuple[Snippet, ...] = (
    Snippet("basic_submission", "1. Basic Task Submission", "python",
            _block(r"""
from retire_cluster.tasks import Task, TaskRequirements, TaskPriority

# Create a simple task
task = Task(
    task_type="echo",
    payload={"message": "Hello World!"},
    priority=TaskPriority.NORMAL
)

# Submit to cluster
task_id = scheduler.submit_task(task)
""")),
    Snippet("requirements_task", "2. Task with Requirements", "python",
            _block(r"""
# Task that requires specific device capabilities
compute_task = Task(
    task_type="python_eval",
    payload={"expression": "sum(range(1000000))"},
    requirements=TaskRequirements(
        min_cpu_cores=4,
        min_memory_gb=8,
        required_platform="linux",
        timeout_seconds=60
    )
)
""")),
    Snippet("mobile_task", "3. Mobile-Specific Task", "python",
            _block(r"""
# Task targeted at mobile devices
mobile_task = Task(
    task_type="system_info",
    payload={},
    requirements=TaskRequirements(
        required_role="mobile",
        required_platform="android"
    )
)
""")),
    Snippet("echo_task", "Echo Task", "python",
            _block(r"""
Task(
    task_type="echo",
    payload={"message": "Your message here"}
)
""")),
    Snippet("sleep_task", "Sleep Task", "python",
            _block(r"""
Task(
    task_type="sleep",
    payload={"duration": 5.0}
)
""")),
    Snippet("system_info_task", "System Info Task", "python",
            _block(r"""
Task(task_type="system_info", payload={})
""")),
    Snippet("python_eval_task", "Python Evaluation Task", "python",
            _block(r"""
Task(
    task_type="python_eval",
    payload={"expression": "2 + 2"}
)
""")),
    Snippet("http_request_task", "HTTP Request Task", "python",
            _block(r"""
Task(
    task_type="http_request",
    payload={
        "url": "https://api.example.com/data",
        "method": "GET",
        "headers": {"Authorization": "Bearer token"},
        "timeout": 30
    }
)
""")),
    Snippet("command_task", "Command Execution Task", "python",
            _block(r"""
Task(
    task_type="command",
    payload={
        "command": "ls -la",
        "timeout": 10
    }
)
""")),
    Snippet("custom_handler", "You can register custom task handlers on worker nodes:", "python",
            _block(r"""
def my_custom_handler(payload):
    # Your custom logic here
    input_data = payload.get('input')
    result = process_data(input_data)
    return {"output": result}

# Register on worker
executor.register_handler("my_custom_task", my_custom_handler)
""")),
    Snippet("resource_requirements", "Resource Requirements", "python",
            _block(r"""
TaskRequirements(
    min_cpu_cores=4,        # Minimum CPU cores
    min_memory_gb=8,        # Minimum RAM in GB
    min_storage_gb=100,     # Minimum storage in GB
    gpu_required=True,      # Requires GPU
    internet_required=True  # Requires internet access
)
""")),
    Snippet("platform_requirements", "Platform Requirements", "python",
            _block(r"""
TaskRequirements(
    required_platform="linux",      # "windows", "linux", "android", "darwin"
    required_role="compute",         # "worker", "compute", "storage", "mobile"
    required_tags=["gpu-capable"]    # Custom device tags
)
""")),
    Snippet("execution_requirements", "Execution Requirements", "python",
            _block(r"""
TaskRequirements(
    timeout_seconds=300,    # Maximum execution time
    max_retries=3          # Maximum retry attempts
)
""")),
    Snippet("priorities", "Tasks can be assigned different priority levels:", "python",
            _block(r"""
TaskPriority.URGENT    # Highest priority
TaskPriority.HIGH      # High priority
TaskPriority.NORMAL    # Normal priority (default)
TaskPriority.LOW       # Lowest priority
""")),
    Snippet("check_status", "Check Task Status", "python",
            _block(r"""
status = scheduler.get_task_status(task_id)
print(f"Task status: {status.value}")
""")),
    Snippet("get_result", "Get Task Result", "python",
            _block(r"""
result = scheduler.get_task_result(task_id)
if result:
    if result.status == TaskStatus.SUCCESS:
        print(f"Result: {result.result_data}")
    else:
        print(f"Error: {result.error_message}")
""")),
    Snippet("cluster_statistics", "Get Cluster Statistics", "python",
            _block(r"""
stats = scheduler.get_cluster_statistics()
print(f"Online devices: {stats['cluster_stats']['online_devices']}")
print(f"Queue size: {stats['queue_stats']['total_tasks']}")
""")),
    Snippet("temporal_integration", "Use Temporal for complex workflow orchestration:",
            "integration",
            _block(r"""
from retire_cluster.tasks.integrations import TemporalIntegration

temporal = TemporalIntegration(cluster_client)
await temporal.initialize("localhost:7233")

# Submit task via Temporal workflow
workflow_id = temporal.submit_task("data_processing", {"input": "data"})
""")),
    Snippet("celery_integration", "Use Celery as a task broker:", "integration",
            _block(r"""
from retire_cluster.tasks.integrations import CeleryIntegration

celery = CeleryIntegration(cluster_client)
celery.initialize("redis://localhost:6379")

# Submit via Celery
task_id = celery.submit_task("analysis", {"dataset": "data.csv"})
""")),
    Snippet("http_bridge", "Expose task submission via HTTP:", "integration",
            _block(r"""
from retire_cluster.tasks.integrations import SimpleTaskBridge

bridge = SimpleTaskBridge(cluster_client)
bridge.start_http_bridge()  # Starts HTTP server on port 8081

# Submit via HTTP POST
# curl -X POST http://localhost:8081/tasks \
#   -H "Content-Type: application/json" \
#   -d '{"task_type": "echo", "payload": {"message": "Hello"}}'
""")),
    Snippet("cli_integration", "The task framework integrates with the Retire-Cluster CLI:",
            "shell",
            _block(r"""
# Start main node with task scheduling
retire-cluster-main --port 8080

# Start worker that can execute tasks
retire-cluster-worker --join 192.168.1.100:8080 --role compute

# Monitor cluster and tasks
retire-cluster-status 192.168.1.100:8080
""")),
    Snippet("debug_logging", "Enable debug logging:", "python",
            _block(r"""
logger = get_logger("scheduler", level="DEBUG")
""")),
    Snippet("queue_statistics", "Check queue statistics:", "python",
            _block(r"""
stats = task_queue.get_queue_statistics()
print(stats)
""")),
    Snippet("device_status", "Monitor device status:", "python",
            _block(r"""
online_devices = scheduler.get_online_devices()
for device_id in online_devices:
    capabilities = scheduler.get_device_capabilities(device_id)
    print(f"{device_id}: {capabilities}")
""")),
)


def snippet(name: str) -> Snippet:
    return next(s for s in SNIPPETS if s.name == name)
