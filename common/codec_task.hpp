// Private to the codec: msgpack form of the task-model structs, shared by codec.cpp.
#pragma once

#include "codec_detail.hpp"
#include "protocol.hpp"

namespace rc::codec::detail {

void write_requirements(Writer& w, const Requirements& r);
bool read_requirements(const msgpack::object& o, Requirements& r, std::string& error);
void write_task_spec(Writer& w, const TaskSpec& t);
bool read_task_spec(const msgpack::object& o, TaskSpec& t, std::string& error);
void write_task_result(Writer& w, const TaskResult& r);
bool read_task_result(const msgpack::object& o, TaskResult& r, std::string& error);
void write_task_info(Writer& w, const proto::TaskInfo& t);
bool read_task_info(const msgpack::object& o, proto::TaskInfo& t, std::string& error);
void write_caps(Writer& w, const DeviceCapabilities& c);
bool read_caps(const msgpack::object& o, DeviceCapabilities& c, std::string& error);
void write_metrics(Writer& w, const proto::DeviceMetrics& m);
bool read_metrics(const msgpack::object& o, proto::DeviceMetrics& m, std::string& error);

} // namespace rc::codec::detail
