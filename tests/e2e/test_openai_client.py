"""The official OpenAI Python client against `pith serve` on loopback.

Structured output (`response_format` with a JSON Schema) and tool calls,
streamed and not, on the real default model: what an OpenAI client sends,
Pith answers in the shape the client reads. The client library is installed
by `./pith.sh test` (tests/e2e/requirements.txt) into the folder named by
PITH_PYDEPS.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

if os.environ.get("PITH_PYDEPS"):
    sys.path.insert(0, os.environ["PITH_PYDEPS"])

import openai  # noqa: E402  (after the path above)

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "city": {"type": "string"},
    },
    "required": ["name", "age", "city"],
    "additionalProperties": False,
}

TEXT = "Maria Lopez is 34 years old and lives in Lyon."

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


def pith_bin():
    desktop = os.environ.get("PITH_DESKTOP_BIN")
    if not desktop:
        raise RuntimeError("set PITH_DESKTOP_BIN to the built pith-desktop binary (./pith.sh test does)")
    return str(pathlib.Path(desktop).with_name("pith"))


def check_person(test, value):
    test.assertEqual(set(value), {"name", "age", "city"}, value)
    test.assertIsInstance(value["name"], str)
    test.assertIsInstance(value["age"], int)
    test.assertIsInstance(value["city"], str)


def check_weather_call(test, name, arguments):
    test.assertEqual(name, "get_weather")
    args = json.loads(arguments)
    test.assertEqual(set(args), {"city", "unit"}, args)
    test.assertIsInstance(args["city"], str)
    test.assertIn(args["unit"], ["celsius", "fahrenheit"])


class OpenAIClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = tempfile.TemporaryDirectory()
        cls.server = subprocess.Popen(
            [pith_bin(), "serve", "--port", "0"],
            env={**os.environ, "PITH_DATA_DIR": cls.data.name},
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        base_url = token = None
        for line in cls.server.stdout:
            if line.startswith("Pith API listening on "):
                base_url = line.split("on ", 1)[1].strip()
            if line.startswith("token: "):
                token = line.split(": ", 1)[1].strip()
            if line.startswith("remote: "):
                break
        if not (base_url and token):
            cls.server.kill()
            raise RuntimeError("pith serve did not print its address and token")
        cls.client = openai.OpenAI(base_url=base_url, api_key=token, max_retries=0, timeout=None)
        cls.model = next(m.id for m in cls.client.models.list().data if "SmolLM2" in m.id)

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        cls.server.wait()
        cls.data.cleanup()

    def ask_person(self, **kwargs):
        return dict(
            model=self.model,
            messages=[{"role": "system", "content": "Extract the person as JSON."},
                      {"role": "user", "content": TEXT}],
            response_format={"type": "json_schema",
                             "json_schema": {"name": "person", "schema": PERSON, "strict": True}},
            temperature=0,
            **kwargs)

    def test_a_json_schema_response_parses_and_follows_the_schema(self):
        r = self.client.chat.completions.create(**self.ask_person())
        self.assertEqual(r.choices[0].finish_reason, "stop")
        check_person(self, json.loads(r.choices[0].message.content))

    def test_a_streamed_json_schema_response_parses_once_joined(self):
        stream = self.client.chat.completions.create(**self.ask_person(stream=True))
        pieces, finish = [], None
        for chunk in stream:
            delta = chunk.choices[0].delta
            if delta.content:
                pieces.append(delta.content)
            finish = chunk.choices[0].finish_reason or finish
        self.assertGreater(len(pieces), 1, "the JSON arrives token by token")
        self.assertEqual(finish, "stop")
        check_person(self, json.loads("".join(pieces)))

    def test_json_object_mode_gives_an_object(self):
        r = self.client.chat.completions.create(
            model=self.model, temperature=0, response_format={"type": "json_object"},
            messages=[{"role": "user", "content": "Give the name and city of: " + TEXT}])
        self.assertIsInstance(json.loads(r.choices[0].message.content), dict)

    def ask_weather(self, **kwargs):
        return dict(
            model=self.model, temperature=0, tools=[WEATHER],
            messages=[{"role": "user", "content": "What is the weather in Paris, in celsius?"}],
            **kwargs)

    def test_a_required_tool_call_comes_back_as_tool_calls(self):
        r = self.client.chat.completions.create(**self.ask_weather(tool_choice="required"))
        choice = r.choices[0]
        self.assertEqual(choice.finish_reason, "tool_calls")
        self.assertIsNone(choice.message.content)
        call = choice.message.tool_calls[0]
        self.assertEqual(call.type, "function")
        self.assertTrue(call.id.startswith("call_"))
        check_weather_call(self, call.function.name, call.function.arguments)

    def test_a_named_tool_call_streams_as_tool_call_deltas(self):
        stream = self.client.chat.completions.create(**self.ask_weather(
            tool_choice={"type": "function", "function": {"name": "get_weather"}}, stream=True))
        calls, finish = {}, None
        for chunk in stream:
            for d in chunk.choices[0].delta.tool_calls or []:
                call = calls.setdefault(d.index, {"name": "", "arguments": ""})
                if d.function.name:
                    call["name"] += d.function.name
                if d.function.arguments:
                    call["arguments"] += d.function.arguments
            finish = chunk.choices[0].finish_reason or finish
        self.assertEqual(finish, "tool_calls")
        self.assertIn(0, calls)
        check_weather_call(self, calls[0]["name"], calls[0]["arguments"])

    def test_the_tool_result_goes_back_and_the_model_answers(self):
        first = self.client.chat.completions.create(**self.ask_weather(tool_choice="required"))
        call = first.choices[0].message.tool_calls[0]
        r = self.client.chat.completions.create(
            model=self.model, temperature=0, tools=[WEATHER], tool_choice="none", max_tokens=40,
            messages=[
                {"role": "user", "content": "What is the weather in Paris, in celsius?"},
                {"role": "assistant", "content": None, "tool_calls": [{
                    "id": call.id, "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments}}]},
                {"role": "tool", "tool_call_id": call.id, "content": "18 degrees, sunny"},
            ])
        self.assertTrue(r.choices[0].message.content.strip())
        self.assertFalse(r.choices[0].message.tool_calls)

    def test_a_schema_pith_cannot_enforce_is_a_400_naming_the_part(self):
        bad = {"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 3}}}
        with self.assertRaises(openai.BadRequestError) as caught:
            self.client.chat.completions.create(
                model=self.model, messages=[{"role": "user", "content": "x"}],
                response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": bad}})
        self.assertIn("/properties/n/multipleOf", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
