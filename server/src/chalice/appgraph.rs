//! The Lambda functions `chalice deploy` creates for an app, read statically
//! from app.py (chalice itself imports the app and walks
//! `chalice/deploy/appgraph.py ApplicationGraphBuilder`).
//!
//! Registration is emulated for decorators called on a `Chalice(...)` object
//! bound in app.py, and on `Blueprint(...)` objects bound in app.py once they
//! are passed to `<app>.register_blueprint(...)` (with `name_prefix`).
//! Functions are listed in the order chalice's build stage reaches them
//! (`DependencyBuilder` over the application graph), which is the order its
//! policy steps and injections run in.

use serde::Serialize;

use super::pyast::{Kind, NodeId, PyAst};
use crate::analysis::TextRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlerKind {
    Route,
    Authorizer,
    LambdaFunction,
    Schedule,
    S3Event,
    SnsMessage,
    SqsMessage,
    CloudWatchEvent,
    KinesisRecord,
    DynamoDbRecord,
    WebsocketConnect,
    WebsocketMessage,
    WebsocketDisconnect,
}

impl HandlerKind {
    pub fn from_decorator(attr: &str) -> Option<HandlerKind> {
        Some(match attr {
            "route" => HandlerKind::Route,
            "authorizer" => HandlerKind::Authorizer,
            "lambda_function" => HandlerKind::LambdaFunction,
            "schedule" => HandlerKind::Schedule,
            "on_s3_event" => HandlerKind::S3Event,
            "on_sns_message" => HandlerKind::SnsMessage,
            "on_sqs_message" => HandlerKind::SqsMessage,
            "on_cw_event" => HandlerKind::CloudWatchEvent,
            "on_kinesis_record" => HandlerKind::KinesisRecord,
            "on_dynamodb_record" => HandlerKind::DynamoDbRecord,
            "on_ws_connect" => HandlerKind::WebsocketConnect,
            "on_ws_message" => HandlerKind::WebsocketMessage,
            "on_ws_disconnect" => HandlerKind::WebsocketDisconnect,
            _ => return None,
        })
    }

    pub fn decorator(self) -> &'static str {
        match self {
            HandlerKind::Route => "route",
            HandlerKind::Authorizer => "authorizer",
            HandlerKind::LambdaFunction => "lambda_function",
            HandlerKind::Schedule => "schedule",
            HandlerKind::S3Event => "on_s3_event",
            HandlerKind::SnsMessage => "on_sns_message",
            HandlerKind::SqsMessage => "on_sqs_message",
            HandlerKind::CloudWatchEvent => "on_cw_event",
            HandlerKind::KinesisRecord => "on_kinesis_record",
            HandlerKind::DynamoDbRecord => "on_dynamodb_record",
            HandlerKind::WebsocketConnect => "on_ws_connect",
            HandlerKind::WebsocketMessage => "on_ws_message",
            HandlerKind::WebsocketDisconnect => "on_ws_disconnect",
        }
    }

    /// The position of `name` among the decorator's positional parameters
    /// (`DecoratorAPI` signatures); `None` for `route`, whose name does not
    /// name a Lambda function.
    fn name_position(self) -> Option<usize> {
        match self {
            HandlerKind::Route => None,
            HandlerKind::Authorizer => Some(2),
            HandlerKind::LambdaFunction
            | HandlerKind::WebsocketConnect
            | HandlerKind::WebsocketMessage
            | HandlerKind::WebsocketDisconnect => Some(0),
            HandlerKind::Schedule | HandlerKind::SnsMessage | HandlerKind::CloudWatchEvent => Some(1),
            HandlerKind::S3Event => Some(4),
            HandlerKind::SqsMessage => Some(2),
            HandlerKind::KinesisRecord | HandlerKind::DynamoDbRecord => Some(3),
        }
    }

    /// The event source chalice's `LambdaEventSourcePolicyInjector` or
    /// `WebsocketPolicyInjector` adds a statement for.
    pub fn injected_event_source(self) -> Option<EventSourceKind> {
        match self {
            HandlerKind::SqsMessage => Some(EventSourceKind::Sqs),
            HandlerKind::KinesisRecord => Some(EventSourceKind::Kinesis),
            HandlerKind::DynamoDbRecord => Some(EventSourceKind::DynamoDbStream),
            HandlerKind::WebsocketConnect | HandlerKind::WebsocketMessage | HandlerKind::WebsocketDisconnect => {
                Some(EventSourceKind::Websocket)
            }
            _ => None,
        }
    }

    fn is_event_source(self) -> bool {
        matches!(
            self,
            HandlerKind::Schedule
                | HandlerKind::S3Event
                | HandlerKind::SnsMessage
                | HandlerKind::SqsMessage
                | HandlerKind::CloudWatchEvent
                | HandlerKind::KinesisRecord
                | HandlerKind::DynamoDbRecord
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventSourceKind {
    Sqs,
    Kinesis,
    DynamoDbStream,
    Websocket,
}

/// One decorated Python function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandlerSite {
    pub python_name: String,
    pub kind: HandlerKind,
    /// The `def` statement, from `def` (or `async`) to the end of its body;
    /// decorators are not included.
    pub def_range: TextRange,
    /// The registering decorator call.
    pub decorator_range: TextRange,
}

/// One Lambda function chalice creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LambdaFunctionSpec {
    /// The `lambda_functions` key in config.json: `api_handler`,
    /// `websocket_connect`/`_message`/`_disconnect`, or the handler's
    /// `name=` (plus any blueprint `name_prefix`) or Python name.
    pub name: String,
    pub kind: HandlerKind,
    /// The handlers this function serves: every view for `api_handler`,
    /// otherwise one.
    pub handlers: Vec<HandlerSite>,
    pub event_source: Option<EventSourceKind>,
}

/// Something chalice raises while importing app.py or validating it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppGraphError {
    pub message: String,
    pub range: TextRange,
}

/// A registration we cannot resolve statically; reported, never guessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppGraphNote {
    pub message: String,
    pub range: TextRange,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AppGraph {
    /// In build order: pure Lambda functions, event sources, `api_handler`
    /// and its authorizers, then websocket connect, message, disconnect.
    pub functions: Vec<LambdaFunctionSpec>,
    pub errors: Vec<AppGraphError>,
    pub notes: Vec<AppGraphNote>,
}

impl AppGraph {
    pub fn function(&self, name: &str) -> Option<&LambdaFunctionSpec> {
        self.functions.iter().find(|f| f.name == name)
    }
}

/// A registration as chalice records it at import time.
#[derive(Debug, Clone)]
struct Registration {
    name: String,
    site: HandlerSite,
}

#[derive(Debug, Default)]
struct Registry {
    pure: Vec<Registration>,
    events: Vec<Registration>,
    routes: Vec<Registration>,
    authorizers: Vec<Registration>,
    websocket: Vec<Registration>,
}

/// Reads the app graph from app.py's converted tree.
pub(crate) fn build_app_graph(ast: &PyAst, source: &str) -> AppGraph {
    let mut b = GraphBuilder {
        ast,
        source,
        apps: Vec::new(),
        blueprints: Vec::new(),
        registry: Registry::default(),
        graph: AppGraph::default(),
        feature_flags: Some(Vec::new()),
    };
    if let Kind::Module { body } = ast.kind(ast.module) {
        b.statements(body);
    }
    b.finish()
}

/// A blueprint handler waiting for `register_blueprint`: its kind, its
/// explicit `name` if any, and where it is.
type PendingRegistration = (HandlerKind, Option<String>, HandlerSite);

struct GraphBuilder<'a> {
    ast: &'a PyAst,
    source: &'a str,
    /// Names bound to `Chalice(...)`.
    apps: Vec<String>,
    /// Names bound to `Blueprint(...)` and their pending registrations.
    blueprints: Vec<(String, Vec<PendingRegistration>)>,
    registry: Registry,
    graph: AppGraph,
    /// Feature names added to `<app>.experimental_feature_flags`; `None`
    /// once a non-literal update makes the set unknown.
    feature_flags: Option<Vec<String>>,
}

impl<'a> GraphBuilder<'a> {
    fn text(&self, id: NodeId) -> &str {
        let r = self.ast.range(id);
        &self.source[r.start..r.end]
    }

    /// Statements that run at import: module level and the bodies of
    /// module-level `if`/`try`/`with`/loops (not functions or classes).
    fn statements(&mut self, body: &[NodeId]) {
        for s in body {
            self.statement(*s);
        }
    }

    fn statement(&mut self, id: NodeId) {
        let ast = self.ast;
        match ast.kind(id) {
            Kind::Assign { targets, value } => {
                let ctor = self.constructor(*value);
                for t in targets {
                    if let Kind::Name { id: name, .. } = ast.kind(*t) {
                        self.apps.retain(|a| a != name);
                        self.blueprints.retain(|(b, _)| b != name);
                        match ctor {
                            Some("Chalice") => self.apps.push(name.clone()),
                            Some("Blueprint") => self.blueprints.push((name.clone(), Vec::new())),
                            _ => {}
                        }
                    }
                }
            }
            Kind::ExprStmt(e) => {
                self.register_blueprint_call(*e);
                self.feature_flag_call(*e);
            }
            Kind::FunctionDef(f) => self.decorated(id, &f.name, &f.decorators),
            Kind::If { body, orelse, .. } | Kind::For { body, orelse, .. } | Kind::While { body, orelse, .. } => {
                self.statements(body);
                self.statements(orelse);
            }
            Kind::With { body, .. } => self.statements(body),
            Kind::Try(t) => {
                let super::pyast::Try { body, handlers, orelse, finalbody } = &**t;
                self.statements(body);
                for h in handlers {
                    if let Kind::ExceptHandler(h) = ast.kind(*h) {
                        self.statements(&h.body);
                    }
                }
                self.statements(orelse);
                self.statements(finalbody);
            }
            _ => {}
        }
    }

    /// `Chalice(...)`, `chalice.Chalice(...)`, `Blueprint(...)`.
    fn constructor(&self, value: NodeId) -> Option<&'static str> {
        let Kind::Call { func, .. } = self.ast.kind(value) else { return None };
        let name = match self.ast.kind(*func) {
            Kind::Name { id, .. } => id.as_str(),
            Kind::Attribute { attr, .. } => attr.as_str(),
            _ => return None,
        };
        match name {
            "Chalice" => Some("Chalice"),
            "Blueprint" => Some("Blueprint"),
            _ => None,
        }
    }

    fn object_name(&self, id: NodeId) -> Option<&str> {
        match self.ast.kind(id) {
            Kind::Name { id, .. } => Some(id),
            _ => None,
        }
    }

    fn register_blueprint_call(&mut self, e: NodeId) {
        let ast = self.ast;
        let Kind::Call { func, args, keywords } = ast.kind(e) else { return };
        let Kind::Attribute { value, attr, .. } = ast.kind(*func) else { return };
        if attr != "register_blueprint" {
            return;
        }
        let Some(app) = self.object_name(*value) else { return };
        if !self.apps.iter().any(|a| a == app) {
            return;
        }
        let Some(bp_node) = args.first() else { return };
        let bp_name = self.object_name(*bp_node).map(str::to_string);
        let Some(pos) = bp_name.as_ref().and_then(|n| self.blueprints.iter().position(|(b, _)| b == n)) else {
            self.graph.notes.push(AppGraphNote {
                message: format!(
                    "`{}` registers a blueprint not defined in app.py; its Lambda functions are not known",
                    self.text(e)
                ),
                range: ast.range(e),
            });
            return;
        };
        // name_prefix: second positional or keyword; a literal or None.
        let prefix_node = args.get(1).copied().or_else(|| self.keyword(keywords, "name_prefix"));
        let prefix = match prefix_node {
            None => String::new(),
            Some(n) => match self.literal_or_none(n) {
                Some(Some(s)) => s,
                Some(None) => String::new(),
                None => {
                    self.graph.notes.push(AppGraphNote {
                        message: "`name_prefix` is not a string literal; the blueprint's function names are not known".into(),
                        range: ast.range(n),
                    });
                    return;
                }
            },
        };
        let pending = self.blueprints[pos].1.clone();
        for (kind, name, site) in pending {
            let name = name.unwrap_or_else(|| site.python_name.clone());
            self.record(kind, format!("{prefix}{name}"), site);
        }
    }

    /// `app.experimental_feature_flags.update([...])` / `.add('...')`.
    fn feature_flag_call(&mut self, e: NodeId) {
        let ast = self.ast;
        let Kind::Call { func, args, .. } = ast.kind(e) else { return };
        let Kind::Attribute { value, attr, .. } = ast.kind(*func) else { return };
        if attr != "update" && attr != "add" {
            return;
        }
        let Kind::Attribute { value: owner, attr: flags, .. } = ast.kind(*value) else { return };
        if flags != "experimental_feature_flags" || !self.object_name(*owner).is_some_and(|o| self.apps.iter().any(|a| a == o)) {
            return;
        }
        let literal_names: Option<Vec<String>> = match (attr.as_str(), args.first().map(|a| ast.kind(*a))) {
            ("add", Some(Kind::Constant(Some(s)))) => Some(vec![s.clone()]),
            ("update", Some(Kind::List { elts } | Kind::Tuple { elts } | Kind::Set(elts))) => elts
                .iter()
                .map(|x| match ast.kind(*x) {
                    Kind::Constant(Some(s)) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => None,
        };
        match (literal_names, self.feature_flags.as_mut()) {
            (Some(names), Some(flags)) => flags.extend(names),
            _ => self.feature_flags = None,
        }
    }

    fn keyword(&self, keywords: &[NodeId], name: &str) -> Option<NodeId> {
        keywords.iter().find_map(|k| match self.ast.kind(*k) {
            Kind::Keyword { arg: Some(a), value } if a == name => Some(*value),
            _ => None,
        })
    }

    /// `Some(Some(s))` for a str literal, `Some(None)` for `None`, `None`
    /// for anything we cannot evaluate.
    fn literal_or_none(&self, id: NodeId) -> Option<Option<String>> {
        match self.ast.kind(id) {
            Kind::Constant(Some(s)) => Some(Some(s.clone())),
            Kind::Constant(None) if self.text(id) == "None" => Some(None),
            _ => None,
        }
    }

    /// Decorators run bottom-up when the `def` executes.
    fn decorated(&mut self, def: NodeId, python_name: &str, decorators: &[NodeId]) {
        let ast = self.ast;
        for d in decorators.iter().rev() {
            let Kind::Call { func, args, keywords } = ast.kind(*d) else { continue };
            let Kind::Attribute { value, attr, .. } = ast.kind(*func) else { continue };
            let Some(kind) = HandlerKind::from_decorator(attr) else { continue };
            let Some(obj) = self.object_name(*value).map(str::to_string) else { continue };
            let is_app = self.apps.contains(&obj);
            let bp = self.blueprints.iter().position(|(b, _)| *b == obj);
            if !is_app && bp.is_none() {
                continue;
            }
            let site = HandlerSite {
                python_name: python_name.to_string(),
                kind,
                def_range: ast.range(def),
                decorator_range: ast.range(*d),
            };
            // The handler's `name`: a keyword or its positional slot.
            let name_node = self.keyword(keywords, "name").or_else(|| kind.name_position().and_then(|p| args.get(p).copied()));
            let name = match (kind, name_node) {
                (HandlerKind::Route, _) | (_, None) => None,
                (_, Some(n)) => match self.literal_or_none(n) {
                    Some(v) => v,
                    None => {
                        self.graph.notes.push(AppGraphNote {
                            message: format!(
                                "the `name` of `{}` is not a string literal; this Lambda function is left out",
                                python_name
                            ),
                            range: ast.range(n),
                        });
                        continue;
                    }
                },
            };
            if kind == HandlerKind::SqsMessage && !self.sqs_has_queue(args, keywords) {
                self.graph.errors.push(AppGraphError {
                    message: "Must provide either `queue` or `queue_arn` to the `on_sqs_message` decorator.".into(),
                    range: ast.range(*d),
                });
            }
            match bp {
                Some(i) => self.blueprints[i].1.push((kind, name, site)),
                None => {
                    let name = name.unwrap_or_else(|| python_name.to_string());
                    self.record(kind, name, site);
                }
            }
        }
    }

    /// `on_sqs_message` raises unless `queue` or `queue_arn` is truthy; only
    /// a missing argument or a literal `None`/`''` is known to be falsy.
    fn sqs_has_queue(&self, args: &[NodeId], keywords: &[NodeId]) -> bool {
        let queue = args.first().copied().or_else(|| self.keyword(keywords, "queue"));
        let arn = self.keyword(keywords, "queue_arn");
        let falsy = |n: Option<NodeId>| match n {
            None => true,
            Some(n) => matches!(self.literal_or_none(n), Some(None)) || matches!(self.literal_or_none(n), Some(Some(ref s)) if s.is_empty()),
        };
        !(falsy(queue) && falsy(arn))
    }

    fn record(&mut self, kind: HandlerKind, name: String, site: HandlerSite) {
        let reg = Registration { name, site };
        match kind {
            HandlerKind::Route => self.registry.routes.push(reg),
            HandlerKind::Authorizer => self.registry.authorizers.push(reg),
            HandlerKind::LambdaFunction => self.registry.pure.push(reg),
            HandlerKind::WebsocketConnect | HandlerKind::WebsocketMessage | HandlerKind::WebsocketDisconnect => {
                if self.registry.websocket.iter().any(|r| r.site.kind == kind) {
                    self.graph.errors.push(AppGraphError {
                        message: format!(
                            "Duplicate websocket handler: '{}'. There can only be one handler for each websocket decorator.",
                            kind.decorator()
                        ),
                        range: reg.site.decorator_range,
                    });
                    return;
                }
                self.registry.websocket.push(reg)
            }
            k if k.is_event_source() => self.registry.events.push(reg),
            _ => {}
        }
    }

    fn finish(mut self) -> AppGraph {
        let r = std::mem::take(&mut self.registry);
        // validate_unique_function_names: authorizers, event sources, pure
        // functions.
        let mut seen: Vec<&str> = Vec::new();
        for reg in r.authorizers.iter().chain(r.events.iter()).chain(r.pure.iter()) {
            if seen.contains(&reg.name.as_str()) {
                self.graph.errors.push(AppGraphError {
                    message: format!(
                        "Duplicate function name detected: {}\nNames must be unique across all lambda functions in your Chalice app.",
                        reg.name
                    ),
                    range: reg.site.decorator_range,
                });
            }
            seen.push(&reg.name);
        }
        // load_chalice_app's validate_feature_flags: websocket handlers
        // need the WEBSOCKETS opt-in.
        if let (Some(first), Some(flags)) = (r.websocket.first(), &self.feature_flags) {
            if !flags.iter().any(|f| f == "WEBSOCKETS") {
                self.graph.errors.push(AppGraphError {
                    message: "ExperimentalFeatureError: websocket handlers need \
                              `app.experimental_feature_flags.update(['WEBSOCKETS'])` in app.py"
                        .into(),
                    range: first.site.decorator_range,
                });
            }
        }
        let single = |reg: &Registration| LambdaFunctionSpec {
            name: reg.name.clone(),
            kind: reg.site.kind,
            handlers: vec![reg.site.clone()],
            event_source: reg.site.kind.injected_event_source(),
        };
        let mut functions: Vec<LambdaFunctionSpec> = r.pure.iter().map(single).collect();
        functions.extend(r.events.iter().map(single));
        if !r.routes.is_empty() {
            functions.push(LambdaFunctionSpec {
                name: super::config::API_HANDLER.into(),
                kind: HandlerKind::Route,
                handlers: r.routes.iter().map(|x| x.site.clone()).collect(),
                event_source: None,
            });
            functions.extend(r.authorizers.iter().map(single));
        }
        for (kind, name) in [
            (HandlerKind::WebsocketConnect, "websocket_connect"),
            (HandlerKind::WebsocketMessage, "websocket_message"),
            (HandlerKind::WebsocketDisconnect, "websocket_disconnect"),
        ] {
            if let Some(reg) = r.websocket.iter().find(|x| x.site.kind == kind) {
                functions.push(LambdaFunctionSpec {
                    name: name.into(),
                    kind,
                    handlers: vec![reg.site.clone()],
                    event_source: Some(EventSourceKind::Websocket),
                });
            }
        }
        self.graph.functions = functions;
        self.graph
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chalice::pyast::{convert, ParseOptions};
    use expect_test::{expect, Expect};

    fn check(src: &str, expected: Expect) {
        let tree = crate::python::parse(src, None);
        let ast = convert(src, &tree, ParseOptions { python_version: (3, 12) }).unwrap();
        let g = build_app_graph(&ast, src);
        let mut out = String::new();
        for f in &g.functions {
            let handlers: Vec<_> = f.handlers.iter().map(|h| h.python_name.as_str()).collect();
            out.push_str(&format!("{} {:?} [{}] {:?}\n", f.name, f.kind, handlers.join(", "), f.event_source));
        }
        for e in &g.errors {
            out.push_str(&format!("error: {}\n", e.message.lines().next().unwrap_or("")));
        }
        for n in &g.notes {
            out.push_str(&format!("note: {}\n", n.message));
        }
        expected.assert_eq(&out);
    }

    #[test]
    fn functions_in_chalice_model_order_with_names() {
        check(
            r#"
from chalice import Chalice, Blueprint
app = Chalice(app_name='demo')
@app.route('/')
def index(): pass
@app.authorizer(name='auth')
def my_auth(req): pass
@app.route('/b', methods=['POST'], name='ignored')
def other(): pass
@app.on_sqs_message(queue='q', name='worker')
def on_q(event): pass
@app.lambda_function()
def pure(event, ctx): pass
@app.schedule('rate(1 hour)', 'hourly')
def job(event): pass
@app.on_ws_message()
def msg(event): pass
@app.on_ws_connect()
def conn(event): pass
@app.on_kinesis_record(stream='s')
def kin(event): pass
@app.on_dynamodb_record(stream_arn='arn')
def ddb(event): pass
@app.lambda_function
def not_registered(event, ctx): pass
@other.route('/')
def unknown_object(): pass
"#,
            expect![[r#"
                pure LambdaFunction [pure] None
                worker SqsMessage [on_q] Some(Sqs)
                hourly Schedule [job] None
                kin KinesisRecord [kin] Some(Kinesis)
                ddb DynamoDbRecord [ddb] Some(DynamoDbStream)
                api_handler Route [index, other] None
                auth Authorizer [my_auth] None
                websocket_connect WebsocketConnect [conn] Some(Websocket)
                websocket_message WebsocketMessage [msg] Some(Websocket)
                error: ExperimentalFeatureError: websocket handlers need `app.experimental_feature_flags.update(['WEBSOCKETS'])` in app.py
            "#]],
        );
    }

    #[test]
    fn blueprints_need_registration_and_take_prefixes() {
        check(
            r#"
from chalice import Chalice, Blueprint
from chalicelib import other_bp
bp = Blueprint(__name__)
unused = Blueprint(__name__)
app = Chalice(app_name='demo')
@bp.lambda_function()
def f(e, c): pass
@unused.lambda_function()
def g(e, c): pass
app.register_blueprint(bp, name_prefix='bp_')
app.register_blueprint(other_bp)
"#,
            expect![[r#"
                bp_f LambdaFunction [f] None
                note: `app.register_blueprint(other_bp)` registers a blueprint not defined in app.py; its Lambda functions are not known
            "#]],
        );
    }

    #[test]
    fn import_time_errors() {
        check(
            r#"
from chalice import Chalice
app = Chalice(app_name='demo')
@app.on_sqs_message()
def q(e): pass
@app.lambda_function(name='q')
def dup(e, c): pass
@app.on_ws_connect()
def a(e): pass
@app.on_ws_connect()
def b(e): pass
@app.lambda_function(name=NAME)
def dynamic(e, c): pass
"#,
            expect![[r#"
                q LambdaFunction [dup] None
                q SqsMessage [q] Some(Sqs)
                websocket_connect WebsocketConnect [a] Some(Websocket)
                error: Must provide either `queue` or `queue_arn` to the `on_sqs_message` decorator.
                error: Duplicate websocket handler: 'on_ws_connect'. There can only be one handler for each websocket decorator.
                error: Duplicate function name detected: q
                error: ExperimentalFeatureError: websocket handlers need `app.experimental_feature_flags.update(['WEBSOCKETS'])` in app.py
                note: the `name` of `dynamic` is not a string literal; this Lambda function is left out
            "#]],
        );
    }
}
