;;; eglot-e2e.el --- chalice-iam through Eglot, end to end  -*- lexical-binding: t; -*-

;; Run by editors/emacs/run:
;;   CHALICE_IAM=… PROJECT=<scratch copy of examples/thread-resource> \
;;     emacs --batch -l eglot-e2e.el
;; Opens app.py with chalice-iam-eglot.el loaded, waits for the two
;; warnings in Flymake, applies both quick fixes the way `eglot-code-actions'
;; does, saves, waits for the warnings to clear, and runs
;; `chalice-iam-show-policy'.  Prints "N passed, M failed".

;;; Code:

(require 'cl-lib)

(defvar e2e-passed 0)
(defvar e2e-failed 0)
(defconst e2e-timeout 20.0)

(defun e2e-say (format-string &rest args)
  ;; `princ' to stdout: `message' goes to stderr in batch mode.
  (princ (concat (apply #'format format-string args) "\n")))

(defun e2e-check (ok what &optional detail)
  (if ok
      (progn (cl-incf e2e-passed) (e2e-say "ok   - %s" what))
    (cl-incf e2e-failed)
    (e2e-say "FAIL - %s%s" what (if detail (format ": %s" detail) "")))
  ok)

(defun e2e-need (ok what &optional detail)
  (unless (e2e-check ok what detail)
    (throw 'e2e-abort what)))

(defun e2e-wait (predicate)
  "Process server messages until PREDICATE holds or the timeout passes."
  (let ((deadline (+ (float-time) e2e-timeout)) value)
    (while (and (not (setq value (funcall predicate)))
                (< (float-time) deadline))
      (accept-process-output nil 0.05)
      ;; Flymake asks its backends on timers that batch mode runs only here.
      (when (bound-and-true-p flymake-mode) (flymake-start)))
    value))

(defun e2e-diagnostics ()
  (sort (cl-remove-if-not (lambda (d) (eq (flymake-diagnostic-backend d) 'eglot-flymake-backend))
                          (flymake-diagnostics))
        (lambda (a b) (< (flymake-diagnostic-beg a) (flymake-diagnostic-beg b)))))

(defun e2e-warnings-matching (count)
  (lambda ()
    (let ((ds (e2e-diagnostics)))
      (and (= (length ds) count)
           ;; Eglot 1.9 files warnings under its own category.
           (cl-every (lambda (d) (memq (flymake-diagnostic-type d) '(:warning eglot-warning))) ds)
           ds))))

(defun e2e-line-col (pos)
  (save-excursion (goto-char pos) (cons (line-number-at-pos) (current-column))))

(defun e2e-apply-quick-fix (diagnostic)
  "What `eglot-code-actions' does once the user picks the quick fix."
  (let* ((actions (eglot-code-actions (flymake-diagnostic-beg diagnostic)
                                      (flymake-diagnostic-end diagnostic)
                                      "quickfix"))
         (action (car actions)))
    (e2e-need action "a quick fix" (format "%S" actions))
    (e2e-need (plist-get action :edit) "the quick fix carries its edit" (format "%S" action))
    ;; Eglot asks before editing files that are not open; the user says yes.
    (cl-letf (((symbol-function 'y-or-n-p) (lambda (&rest _) t)))
      (eglot--apply-workspace-edit (plist-get action :edit)))
    (save-some-buffers t)
    action))

(defun e2e-file-string (file)
  (when (file-exists-p file)
    (with-temp-buffer (insert-file-contents file) (buffer-string))))

(defun e2e-run ()
  (let* ((server (getenv "CHALICE_IAM"))
         (root (file-name-as-directory (getenv "PROJECT")))
         (here (file-name-directory (or load-file-name buffer-file-name)))
         (policy-file (expand-file-name ".chalice/policy-dev.json" root))
         (config-file (expand-file-name ".chalice/config.json" root)))
    (require 'eglot)
    (e2e-say "Emacs %s, %s, server %s" emacs-version (locate-library "eglot") server)
    (load (expand-file-name "chalice-iam-eglot.el" here) nil t)
    (setq chalice-iam-server-command (list server "lsp"))
    ;; No prompts and no pop-ups in batch mode.
    (setq eglot-confirm-server-initiated-edits nil)
    ;; Batch Emacs never delivers file notifications (they come through the
    ;; command loop), so Eglot's watches would never fire and the server would
    ;; not hear of the saved fix. Announcing no watched-files support makes the
    ;; server watch the project itself, as it does for any such client.
    (cl-defmethod eglot-client-capabilities :around (_server)
      (let* ((caps (cl-call-next-method))
             (workspace (plist-get caps :workspace)))
        (plist-put caps :workspace
                   (plist-put workspace :didChangeWatchedFiles '(:dynamicRegistration :json-false)))))
    (find-file (expand-file-name "app.py" root))
    (e2e-need (derived-mode-p 'python-mode) "app.py is in python-mode")
    (apply #'eglot (eglot--guess-contact))
    (e2e-need (e2e-wait (lambda () (and (eglot-current-server)
                                        (eglot--server-capable :codeActionProvider))))
              "Eglot connects to chalice-iam")

    (let ((ds (e2e-wait (e2e-warnings-matching 2))))
      (e2e-need ds "two warnings on app.py" (format "%S" (e2e-diagnostics)))
      (e2e-check (equal (e2e-line-col (flymake-diagnostic-beg (car ds))) '(14 . 12))
                 "the first warning is the scan on line 14"
                 (format "%S" (e2e-line-col (flymake-diagnostic-beg (car ds)))))
      (e2e-check (string-match-p "dynamodb:Scan" (flymake-diagnostic-text (car ds)))
                 "it names dynamodb:Scan" (flymake-diagnostic-text (car ds)))
      (e2e-check (equal (e2e-line-col (flymake-diagnostic-beg (cadr ds))) '(25 . 12))
                 "the second warning is the query on line 25")
      (e2e-check (string-match-p "dynamodb:Query" (flymake-diagnostic-text (cadr ds)))
                 "it names dynamodb:Query" (flymake-diagnostic-text (cadr ds)))

      ;; Eglot 1.9 announces no resource operations, so the server sends
      ;; the new policy file as plain `changes'; Eglot opens a buffer for it.
      (let ((action (e2e-apply-quick-fix (car ds))))
        (e2e-check (string-match-p "dynamodb:Scan" (plist-get action :title)) "the fix is for the scan"
                   (plist-get action :title)))
      (with-current-buffer (find-buffer-visiting (expand-file-name "app.py" root))
        (e2e-check (string-match-p "dynamodb:Scan" (or (e2e-file-string policy-file) ""))
                   "policy-dev.json is written and grants dynamodb:Scan" (e2e-file-string policy-file))
        (e2e-check (string-match-p "\"autogen_policy\": false" (or (e2e-file-string config-file) ""))
                   "config.json turns autogen off" (e2e-file-string config-file))
        (let ((left (e2e-wait (e2e-warnings-matching 1))))
          (e2e-need (and left (string-match-p "dynamodb:Query" (flymake-diagnostic-text (car left))))
                    "only the query warning is left" (format "%S" (e2e-diagnostics)))
          (e2e-apply-quick-fix (car left)))))

    (with-current-buffer (find-buffer-visiting (expand-file-name "app.py" root))
      (e2e-check (string-match-p "dynamodb:Query" (or (e2e-file-string policy-file) ""))
                 "policy-dev.json grants dynamodb:Query too")
      (e2e-check (e2e-wait (lambda () (null (e2e-diagnostics)))) "the warnings clear"
                 (format "%S" (e2e-diagnostics))))))

(defun e2e-policy ()
  (let ((root (file-name-as-directory (getenv "PROJECT"))))
    (with-current-buffer (find-buffer-visiting (expand-file-name "app.py" root))
      (let* ((buffer (chalice-iam-show-policy))
             (text (with-current-buffer buffer (buffer-string)))
             (policy (ignore-errors (json-parse-string text :object-type 'alist))))
        (e2e-check (equal (alist-get 'Version policy) "2012-10-17")
                   "chalice-iam-show-policy shows a policy document" text)
        (e2e-check (and (string-match-p "\"dynamodb:Scan\"" text) (string-match-p "\"dynamodb:Query\"" text))
                   "the policy names both actions")))))

(defun e2e-guarded (fn)
  "Runs FN; an error fails it once (an `e2e-need' failure is already counted)."
  (let ((aborted (catch 'e2e-abort
                   (condition-case err
                       (progn (funcall fn) nil)
                     (error (cl-incf e2e-failed)
                            (e2e-say "ERROR: %S" err)
                            t)))))
    (when (stringp aborted)
      (e2e-say "ERROR: cannot go on without: %s" aborted))
    (not aborted)))

(e2e-guarded #'e2e-run)
;; The policy command does not depend on the fixes having worked, only on a
;; running server.
(when (ignore-errors (with-current-buffer (find-buffer-visiting
                                           (expand-file-name "app.py" (getenv "PROJECT")))
                       (eglot-current-server)))
  (e2e-guarded #'e2e-policy))

(ignore-errors (eglot-shutdown-all))
(e2e-say "%d passed, %d failed" e2e-passed e2e-failed)
(kill-emacs (if (= e2e-failed 0) 0 1))
;;; eglot-e2e.el ends here
