-- End-to-end test of the plugin in a real, headless Neovim with the real
-- server. Run by editors/neovim/tests/run:
--   CHALICE_IAM=… PLUGIN_DIR=… PROJECT=… MODE=enable|setup \
--     nvim --headless --clean -c 'luafile tests/e2e.lua'
-- MODE=enable uses lsp/chalice_iam.lua through vim.lsp.enable (0.11+);
-- MODE=setup uses require('chalice_iam').setup() (vim.lsp.start on 0.8+,
-- vim.lsp.start_client on 0.7).
-- PROJECT is a scratch copy of examples/thread-resource: the test edits it.

local SERVER = assert(os.getenv('CHALICE_IAM'), 'CHALICE_IAM')
local PLUGIN_DIR = assert(os.getenv('PLUGIN_DIR'), 'PLUGIN_DIR')
local ROOT = assert(os.getenv('PROJECT'), 'PROJECT')
local MODE = os.getenv('MODE') or 'setup'
local TIMEOUT = 20000

local passed, failed = 0, 0
-- Straight to stdout: `print` goes through Neovim's message area, which in
-- headless mode reaches stderr without a final newline.
local function say(line)
  io.stdout:write(line, '\n')
  io.stdout:flush()
end
local function check(ok, what, detail)
  if ok then
    passed = passed + 1
    say('ok   - ' .. what)
  else
    failed = failed + 1
    say('FAIL - ' .. what .. (detail and (': ' .. detail) or ''))
  end
  return ok
end
--- Like check, but the rest of the test depends on it.
local function need(ok, what, detail)
  if not check(ok, what, detail) then
    error('cannot go on without: ' .. what, 0)
  end
end

local function read_file(path)
  local f = io.open(path, 'r')
  if not f then
    return nil
  end
  local text = f:read('*a')
  f:close()
  return text
end

local function version_string()
  local v = vim.version()
  return ('%d.%d.%d'):format(v.major, v.minor, v.patch)
end

local function warnings(buf)
  return vim.diagnostic.get(buf, { severity = vim.diagnostic.severity.WARN })
end

--- The LSP form of a buffer diagnostic, `data` (which carries the fix)
--- included, as Neovim's own code_action sends it.
local function lsp_diagnostic(buf, d)
  if vim.lsp.diagnostic.from then
    return vim.lsp.diagnostic.from({ d })[1]
  end
  -- 0.7–0.9
  for _, candidate in ipairs(vim.lsp.diagnostic.get_line_diagnostics(buf, d.lnum)) do
    if candidate.message == d.message then
      return candidate
    end
  end
end

local function sorted_by_line(list)
  table.sort(list, function(a, b)
    return a.lnum < b.lnum
  end)
  return list
end

--- Requests code actions for `d`, returns the first quick fix (resolved
--- if the server left its edit out).
local function quick_fix(client, buf, d)
  local lsp_d = lsp_diagnostic(buf, d)
  if lsp_d == nil then
    return nil, 'no LSP form of "' .. d.message .. '"'
  end
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = lsp_d.range,
    context = { diagnostics = { lsp_d }, only = { 'quickfix' } },
  }
  local results = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, TIMEOUT) or {}
  local answer = results[client.id] or {}
  for _, action in ipairs(answer.result or {}) do
    if action.kind == 'quickfix' then
      if not action.edit then
        local resolved = vim.lsp.buf_request_sync(buf, 'codeAction/resolve', action, TIMEOUT) or {}
        action = (resolved[client.id] or {}).result or action
      end
      return action
    end
  end
  return nil, vim.inspect(answer)
end

local function contains(text, needle)
  return text ~= nil and text:find(needle, 1, true) ~= nil
end

local buf, client

--- Starts the client the way MODE says, and checks where it attaches.
local function start()
  say(('Neovim %s, mode %s, server %s'):format(version_string(), MODE, SERVER))
  vim.opt.runtimepath:prepend(PLUGIN_DIR)
  vim.cmd('runtime! plugin/chalice_iam.lua')

  if MODE == 'enable' then
    need(vim.lsp.config ~= nil and vim.lsp.enable ~= nil, 'vim.lsp.config and vim.lsp.enable exist (0.11+)')
    vim.lsp.config('chalice_iam', { cmd = { SERVER, 'lsp' } })
    vim.lsp.enable('chalice_iam')
  else
    require('chalice_iam').setup({ cmd = { SERVER, 'lsp' } })
  end

  -- A Python file outside any Chalice project gets no client.
  local outside = vim.fn.tempname() .. '.py'
  vim.fn.writefile({ 'import boto3' }, outside)
  vim.cmd('edit ' .. vim.fn.fnameescape(outside))
  vim.wait(300)
  local stray = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = 0 }) or vim.lsp.buf_get_clients(0)
  check(next(stray) == nil, 'no client for a Python file outside a Chalice project')

  vim.cmd('edit ' .. vim.fn.fnameescape(ROOT .. '/app.py'))
  buf = vim.api.nvim_get_current_buf()
  need(vim.wait(TIMEOUT, function()
    local list = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = buf, name = 'chalice_iam' })
      or vim.tbl_values(vim.lsp.buf_get_clients(buf))
    client = list[1]
    return client ~= nil and client.initialized == true
  end, 20), 'the chalice_iam client starts and initializes for app.py')
  check(client.config.root_dir == ROOT, 'root_dir is the project', client.config.root_dir)
  -- 0.11 offers UTF-8 first; 0.7 offers nothing, so UTF-16.
  local expected_encoding = vim.fn.has('nvim-0.10') == 1 and 'utf-8' or 'utf-16'
  check(client.offset_encoding == expected_encoding, 'position encoding ' .. expected_encoding, client.offset_encoding)
end

--- The problem statement's two warnings, fixed through the quick fixes.
local function diagnostics_and_fixes()

  need(vim.wait(TIMEOUT, function()
    return #warnings(buf) == 2
  end, 20), 'two warnings on app.py', vim.inspect(vim.diagnostic.get(buf)))
  local found = sorted_by_line(warnings(buf))
  check(
    found[1].lnum == 13 and found[1].col == 12 and contains(found[1].message, 'dynamodb:Scan'),
    'the first warning is the scan on line 14',
    vim.inspect(found[1])
  )
  check(
    found[2].lnum == 24 and found[2].col == 12 and contains(found[2].message, 'dynamodb:Query'),
    'the second warning is the query on line 25',
    vim.inspect(found[2])
  )
  check(found[1].code == 'CIAM001' and found[1].source == 'chalice-iam', 'code CIAM001 from chalice-iam', vim.inspect(found[1]))

  -- The scan's quick fix: turn autogen off and write a policy file (a
  -- CreateFile plus edits, applied from the edit the action carries).
  local fix, detail = quick_fix(client, buf, found[1])
  need(fix ~= nil and fix.edit ~= nil, 'a quick fix with an edit for the scan', detail)
  check(contains(fix.title, 'dynamodb:Scan'), 'its title names the action', fix.title)
  -- Neovim announces resource operations but not `documentChanges`, so the
  -- server may send the new file either as a CreateFile in documentChanges or
  -- as plain `changes` inserting into the new file's URI; Neovim applies both.
  local touched = {}
  for _, change in ipairs(fix.edit.documentChanges or {}) do
    local uri = change.uri or change.textDocument.uri
    touched[vim.fn.fnamemodify(vim.uri_to_fname(uri), ':t')] = change.kind or 'edit'
  end
  for uri in pairs(fix.edit.changes or {}) do
    touched[vim.fn.fnamemodify(vim.uri_to_fname(uri), ':t')] = 'edit'
  end
  check(touched['config.json'] ~= nil and touched['policy-dev.json'] ~= nil,
    'the edit changes config.json and writes policy-dev.json', vim.inspect(fix.edit))
  vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
  -- Neovim edits buffers; saving them is the user's :wall.
  vim.cmd('silent wall')
  local policy_path = ROOT .. '/.chalice/policy-dev.json'
  local config_text = read_file(ROOT .. '/.chalice/config.json')
  check(contains(read_file(policy_path), 'dynamodb:Scan'), 'policy-dev.json grants dynamodb:Scan', read_file(policy_path))
  check(contains(config_text, '"autogen_policy": false'), 'config.json turns autogen off', config_text)
  check(contains(config_text, '"api_gateway_stage": "api"'), 'config.json keeps the user setting', config_text)

  local function query_left()
    local w = warnings(buf)
    return #w == 1 and contains(w[1].message, 'dynamodb:Query')
  end
  need(vim.wait(TIMEOUT, query_left, 20), 'after the fix, only the query warning is left', vim.inspect(vim.diagnostic.get(buf)))

  -- The edit reaches the server as several notifications (Neovim 0.7
  -- debounces each buffer's changes, and may open the new policy buffer
  -- before its text arrives), so the state above can be a passing one: the
  -- server then withdraws the warning, and republishes it once the policy
  -- text arrives. Ask again, as a user would, until the warning has a fix.
  local fix2, detail2
  local deadline = vim.loop.now() + TIMEOUT
  repeat
    if query_left() then
      fix2, detail2 = quick_fix(client, buf, warnings(buf)[1])
    end
    if fix2 == nil or fix2.edit == nil then
      vim.wait(100)
    end
  until (fix2 ~= nil and fix2.edit ~= nil) or vim.loop.now() > deadline
  need(fix2 ~= nil and fix2.edit ~= nil, 'a quick fix for the query', detail2)
  vim.lsp.util.apply_workspace_edit(fix2.edit, client.offset_encoding)
  vim.cmd('silent wall')
  check(contains(read_file(policy_path), 'dynamodb:Query'), 'policy-dev.json grants dynamodb:Query too')
  check(vim.wait(TIMEOUT, function()
    return #vim.diagnostic.get(buf) == 0
  end, 20), 'the warnings clear', vim.inspect(vim.diagnostic.get(buf)))

end

--- :ChaliceIamPolicy from app.py: a scratch JSON buffer with the policy.
local function policy_command()
  vim.cmd('buffer ' .. buf)
  vim.cmd('ChaliceIamPolicy')
  local policy_buf
  need(vim.wait(TIMEOUT, function()
    local b = vim.api.nvim_get_current_buf()
    if b ~= buf and vim.bo[b].filetype == 'json' then
      policy_buf = b
      return true
    end
    return false
  end, 20), ':ChaliceIamPolicy opens a JSON buffer')
  check(vim.bo[policy_buf].buftype == 'nofile' and not vim.bo[policy_buf].modified, 'the policy buffer is a scratch buffer')
  local text = table.concat(vim.api.nvim_buf_get_lines(policy_buf, 0, -1, false), '\n')
  local decoded_ok, policy = pcall(vim.fn.json_decode, text)
  check(decoded_ok and policy.Version == '2012-10-17', 'the buffer holds a policy document', text)
  check(contains(text, '"dynamodb:Scan"') and contains(text, '"dynamodb:Query"'), 'the policy names both actions', text)
end

--- Runs a part; an error fails it (once: `need` has already counted its
--- own failure) instead of leaving Neovim hanging.
local function run(part)
  local ok, err = xpcall(part, debug.traceback)
  if not ok then
    if not tostring(err):find('cannot go on without: ', 1, true) then
      failed = failed + 1
    end
    say('ERROR: ' .. tostring(err))
  end
  return ok
end

if run(start) then
  run(diagnostics_and_fixes)
  -- The policy command does not depend on the fixes having worked.
  run(policy_command)
end

-- Stop the servers so that they exit before Neovim does.
local stop_all = vim.lsp.get_clients and vim.lsp.get_clients() or vim.lsp.get_active_clients()
for _, c in pairs(stop_all) do
  vim.lsp.stop_client(c.id)
end
vim.wait(3000, function()
  local clients = vim.lsp.get_clients and vim.lsp.get_clients() or vim.lsp.get_active_clients()
  return next(clients) == nil
end, 50)

say(('%d passed, %d failed'):format(passed, failed))
io.stdout:flush()
os.exit(failed == 0 and 0 or 1)
